"""The bell and the notifications page: a member's in-app notices.

The bell in the header shows how many notices are unread. Its number is not
part of the page: htmx fetches it once the page has loaded (`notification_badge`),
so no page pays a query for it and every page's query count stays its own.
Without JavaScript the bell is a plain link to the list. It does not poll:
a request every minute from an idle tab would keep the session from ever
timing out.

Notices are personal: every read and write filters by the member's firm and
user, so another person's notice answers 404 like another firm's.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from advisoros.pagination import keyset_page
from advisoros.tenancy.clock import firm_time
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from workflows.models import Notification
from workflows.services.notifications import unread_notification_count

PAGE_SIZE = 30


def _mine(request: OrgRequest) -> QuerySet[Notification]:
    return Notification.objects.filter(
        organization=request.organization, user=request.user
    )


@require_GET
@require_role(Role.READONLY)
def notification_badge(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The bell's number, for htmx to put in the header."""
    response = render(
        request,
        "workflows/bell_count.html",
        {"unread": unread_notification_count(membership=request.membership)},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@require_role(Role.READONLY)
def notifications(request: OrgRequest, org_slug: str) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    qs = _mine(request)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = keyset_page(
        qs.only("uuid", "kind", "title", "url", "read_at", "created_at"),
        keys=("created_at", "id"),
        descending=True,
        cursor=request.GET.get("cursor") or None,
        size=PAGE_SIZE,
    )
    here = reverse(
        "workflows:notifications", kwargs={"org_slug": request.organization.slug}
    )
    base = f"{here}?show=unread&" if unread_only else f"{here}?"
    kinds = dict(Notification.Kind.choices)
    for notice in page.rows:
        notice.kind_label = kinds.get(notice.kind, notice.kind)
    ctx = {
        "page": page,
        "unread_only": unread_only,
        "unread": unread_notification_count(membership=request.membership),
        "here": here,
        "can_write": request.membership.can_write,
        "next_url": f"{base}cursor={page.next_cursor}" if page.has_next else "",
        "prev_url": f"{base}cursor={page.prev_cursor}" if page.has_previous else "",
    }
    with firm_time(request):
        return render(request, "workflows/notifications.html", ctx)


def _back(request: OrgRequest) -> str:
    return reverse(
        "workflows:notifications", kwargs={"org_slug": request.organization.slug}
    )


def _safe(request: OrgRequest, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@require_POST
@require_role(Role.STAFF)
def notification_read(
    request: OrgRequest, org_slug: str, notification_uuid
) -> HttpResponse:
    """Mark one notice read; with `open`, go where it points."""
    notice = get_object_or_404(_mine(request), uuid=notification_uuid)
    if notice.read_at is None:
        _mine(request).filter(pk=notice.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    if request.POST.get("open") and _safe(request, notice.url):
        return redirect(notice.url)
    return redirect(_back(request))


@require_POST
@require_role(Role.STAFF)
def notifications_read_all(request: OrgRequest, org_slug: str) -> HttpResponse:
    marked = _mine(request).filter(read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        messages.success(
            request, f"{marked} notification{'' if marked == 1 else 's'} marked read."
        )
    else:
        messages.info(request, "Nothing was unread.")
    return redirect(_back(request))


urlpatterns = [
    path("work/notifications/", notifications, name="notifications"),
    path("work/notifications/badge/", notification_badge, name="notification_badge"),
    path(
        "work/notifications/read-all/",
        notifications_read_all,
        name="notifications_read_all",
    ),
    path(
        "work/notifications/<uuid:notification_uuid>/read/",
        notification_read,
        name="notification_read",
    ),
]
