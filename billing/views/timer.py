"""The running timer: start, stop, discard, and its badge in the header.

The badge is not part of any page: as with the bell (workflows.views.notifications),
htmx fetches it once the page has loaded (`timer_badge`), so no page pays a
query for it and every page's query count stays its own. The timer is a row in
the database, so it survives a reload, a closed tab and another device; a small
script (static/js/timer.js) moves the badge's clock on between fetches.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import error_text, form_error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_time import TimerForm, minutes_text
from billing.services.time import (
    TimerStopped,
    timer_discard,
    timer_elapsed_seconds,
    timer_start,
    timer_stop,
)
from billing.time_selectors import running_timer, time_choices


def _back(request: OrgRequest) -> str:
    """Where the form was posted from (`next`, a page of this firm), else the
    timesheet."""
    target = request.POST.get("next", "")
    prefix = f"/o/{request.organization.slug}/"
    if target.startswith(prefix) and url_has_allowed_host_and_scheme(
        target,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return target
    return reverse("billing:timesheet", kwargs={"org_slug": request.organization.slug})


def _stopped_message(request: OrgRequest, stopped: TimerStopped) -> None:
    entry = stopped.entry
    if entry is None:
        messages.info(
            request,
            f"The timer for {stopped.client_name} ran under a minute: nothing was "
            "recorded.",
        )
    elif stopped.capped:
        messages.warning(
            request,
            f"The timer for {stopped.client_name} ran "
            f"{minutes_text(stopped.elapsed_minutes)}, more than a day: one entry "
            f"holds at most 24 hours, so {minutes_text(entry.minutes)} was recorded "
            f"on {entry.date:%a %b} {entry.date.day}. Check it on your timesheet.",
        )
    else:
        messages.success(
            request,
            f"Timer stopped: {minutes_text(entry.minutes)} recorded for "
            f"{stopped.client_name}.",
        )


@require_GET
@require_role(Role.READONLY)
def timer_badge(request: OrgRequest, org_slug: str) -> HttpResponse:
    """The header's running timer, for htmx to put in the header."""
    timer = None
    if request.membership.can_write:  # read-only members keep no time
        # Query: the member's timer with its client.
        timer = running_timer(request.organization.pk, request.user.pk)
    here = request.htmx.current_url_abs_path if request.htmx else ""
    response = render(
        request,
        "billing/timer_badge_content.html",
        {
            "timer": timer,
            "elapsed": timer_elapsed_seconds(timer) if timer else 0,
            "next": here or "",
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@require_role(Role.STAFF)
def timer_start_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    # Query: the clients, and the chosen client's engagements and tasks.
    choices = time_choices(
        request,
        client_key=request.POST.get("client", ""),
        engagement_key=request.POST.get("engagement", ""),
        task_key=request.POST.get("task", ""),
    )
    form = TimerForm(request.POST, **choices)
    if not form.is_valid():
        messages.error(request, f"The timer did not start: {form_error_text(form)}")
        return redirect(_back(request))
    data = form.cleaned_data
    try:
        timer, stopped = timer_start(
            organization=request.organization,
            user=request.user,
            client=form.chosen_client,
            engagement=data["engagement"],
            task=data["task"],
            description=data["description"],
            billable=data["billable"],
        )
    except ValidationError as exc:
        messages.error(request, f"The timer did not start: {error_text(exc)}")
        return redirect(_back(request))
    if stopped is not None:
        _stopped_message(request, stopped)
    messages.success(request, f"Timer started for {timer.client.display_name}.")
    return redirect(_back(request))


@require_POST
@require_role(Role.STAFF)
def timer_stop_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    try:
        stopped = timer_stop(organization=request.organization, user=request.user)
    except ValidationError as exc:
        messages.info(request, error_text(exc))
    else:
        _stopped_message(request, stopped)
    return redirect(_back(request))


@require_POST
@require_role(Role.STAFF)
def timer_discard_view(request: OrgRequest, org_slug: str) -> HttpResponse:
    if timer_discard(organization=request.organization, user=request.user):
        messages.success(request, "Timer discarded: nothing was recorded.")
    else:
        messages.info(request, "No timer is running.")
    return redirect(_back(request))


urlpatterns = [
    path("billing/timer/badge/", timer_badge, name="timer_badge"),
    path("billing/timer/start/", timer_start_view, name="timer_start"),
    path("billing/timer/stop/", timer_stop_view, name="timer_stop"),
    path("billing/timer/discard/", timer_discard_view, name="timer_discard"),
]
