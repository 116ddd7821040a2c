"""Time pages: a person's week (the timesheet), adding, editing and deleting entries.

A member sees and changes their own time; managers and above also open anyone's
week (`?member=<membership uuid>`) and correct it. Billed entries are shown,
never changed (billing.services.time).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_GET, require_POST

from advisoros.forms import add_service_errors, error_text
from advisoros.http import is_uuid
from advisoros.row_urls import row_url
from advisoros.tenancy.clock import firm_time, firm_today
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Membership, Role
from advisoros.tenancy.request import OrgRequest
from billing.forms_time import TimeEntryForm, minutes_text
from billing.models import TimeEntry
from billing.selectors import billing_settings
from billing.services.time import (
    billed_refusal,
    time_entry_create,
    time_entry_delete,
    time_entry_update,
)
from billing.time_selectors import (
    running_timer,
    time_choices,
    week_entries,
    week_grid,
    week_start,
)
from clients.engagement_selectors import active_members

# Choices a time form takes from the query string or the posted form.
CHOICE_KEYS = ("client", "engagement", "task")


def _day(value: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2999 else None


def _whose_week(request: OrgRequest, key: str) -> tuple[Membership, list[Membership]]:
    """The member whose time the page shows (the viewer unless a manager asks for
    someone else) and, for managers, the firm's members to choose from."""
    members: list[Membership] = []
    is_manager = request.membership.has_role(Role.MANAGER)
    if is_manager:
        members = active_members(request.organization)  # Query: the members.
    if not key or key == str(request.membership.uuid):
        return request.membership, members
    if not is_manager:
        raise PermissionDenied("Only managers and above see other people's time.")
    if not is_uuid(key):
        raise Http404("No such member.")
    member = next((m for m in members if str(m.uuid) == key), None)
    if member is None:
        # Query (a former member's week): that membership.
        member = get_object_or_404(
            Membership.objects.filter(organization=request.organization).select_related(
                "user"
            ),
            uuid=key,
        )
    return member, members


def _user_of(request: OrgRequest, member: Membership):
    return request.user if member.pk == request.membership.pk else member.user


def _timesheet_url(
    request: OrgRequest,
    start: dt.date,
    member: Membership | None = None,
    *,
    base: str = "",
    **extra,
) -> str:
    query = {"week": start.isoformat()}
    if member is not None and member.pk != request.membership.pk:
        query["member"] = str(member.uuid)
    query.update({k: v for k, v in extra.items() if v})
    base = base or reverse(
        "billing:timesheet", kwargs={"org_slug": request.organization.slug}
    )
    return f"{base}?{urlencode(query)}"


def _entry_form(
    request: OrgRequest, source, *, initial_date: dt.date, bound: bool
) -> TimeEntryForm:
    """The quick-add form, its choices for the client in `source` (the query
    string of a prefilled link or htmx refresh, or the posted form)."""
    choices = time_choices(
        request,
        client_key=source.get("client", ""),
        engagement_key=source.get("engagement", ""),
        task_key=source.get("task", ""),
        find=source.get("find", ""),
    )
    if bound:
        return TimeEntryForm(source, **choices)
    initial = {k: source[k] for k in (*CHOICE_KEYS, "description") if source.get(k)}
    initial["date"] = _day(source.get("date", "")) or initial_date
    initial["duration"] = source.get("duration", "")
    # An htmx refresh (another client chosen) keeps what the box said; a fresh
    # form is billable.
    initial["billable"] = "billable" in source if request.htmx else True
    return TimeEntryForm(initial=initial, **choices)


def _form_only(request: OrgRequest, form: TimeEntryForm | None) -> bool:
    """Whether htmx asks for the form alone (another client was chosen)."""
    return bool(
        request.htmx
        and request.method == "GET"
        and form is not None
        and not request.htmx.history_restore_request
    )


def _day_labels(day: dt.date) -> dict[str, str]:
    return {
        "long": date_format(day, "l M j"),
        "short": date_format(day, "M j"),
        "day": date_format(day, "D M j"),
    }


def _timesheet(
    request: OrgRequest,
    *,
    start: dt.date,
    member: Membership,
    members: list[Membership],
    form: TimeEntryForm | None = None,
) -> HttpResponse:
    org = request.organization
    today = firm_today(org)
    is_self = member.pk == request.membership.pk
    can_write = request.membership.can_write and member.is_active
    # Query: the week's entries with their clients, engagements and tasks.
    entries = week_entries(org.pk, member.user_id, start)
    grid = week_grid(entries, start)
    days = [start + dt.timedelta(days=i) for i in range(7)]
    if can_write and form is None:
        in_week = start <= today < start + dt.timedelta(days=7)
        # Query: the clients for the form (and, once one is chosen, its
        # engagements and tasks).
        form = _entry_form(
            request, request.GET, initial_date=today if in_week else start, bound=False
        )
    # The week's seven days written out once (the grid and the entries name
    # them a few hundred times; Django's date filter costs a tenth of a
    # millisecond each), and the page's address reversed once.
    labels = {day: _day_labels(day) for day in days}
    base = reverse("billing:timesheet", kwargs={"org_slug": org.slug})
    for row in grid.rows:
        keys = {
            "client": row.client.uuid,
            "engagement": row.engagement.uuid if row.engagement else "",
            "task": row.task.uuid if row.task else "",
        }
        row.cells = [
            {
                "minutes": minutes,
                "date": day,
                "label": labels[day]["long"],
                "add_url": _timesheet_url(
                    request, start, member, base=base, date=day.isoformat(), **keys
                )
                + "#add",
            }
            for day, minutes in zip(days, row.days, strict=True)
        ]
    edit_url = row_url("billing:entry_edit", "entry_uuid", org_slug=org.slug)
    delete_url = row_url("billing:entry_delete", "entry_uuid", org_slug=org.slug)
    for entry in entries:
        entry.edit_url = edit_url(entry.uuid)
        entry.delete_url = delete_url(entry.uuid)
        entry.labels = labels[entry.date]  # the week's entries: its days
    ctx = {
        "start": start,
        "end": days[-1],
        "days": [{"date": d, "today": d == today} for d in days],
        "grid": grid,
        "entries": entries,
        "member": member,
        "member_name": _user_of(request, member),
        "is_self": is_self,
        "members": members,
        "form": form,
        "can_write": can_write,
        "prev_url": _timesheet_url(request, start - dt.timedelta(days=7), member),
        "next_url": _timesheet_url(request, start + dt.timedelta(days=7), member),
        "this_week_url": _timesheet_url(request, week_start(today), member),
        "is_this_week": start == week_start(today),
        "refresh_url": _timesheet_url(request, start, member),
        # Query: the viewer's running timer (the header shows it too, once
        # htmx has loaded it; this page works without).
        "timer": running_timer(org.pk, request.user.pk)
        if is_self and can_write
        else None,
    }
    template = "billing/timesheet.html"
    if _form_only(request, form):
        template += "#entry_form"  # another client chosen: the form alone
    with firm_time(request):
        return render(request, template, ctx)


@require_GET
@require_role(Role.READONLY)
def timesheet(request: OrgRequest, org_slug: str) -> HttpResponse:
    start = week_start(
        _day(request.GET.get("week", "")) or firm_today(request.organization)
    )
    member, members = _whose_week(request, request.GET.get("member", ""))
    return _timesheet(request, start=start, member=member, members=members)


def _recorded_text(entry: TimeEntry, settings) -> str:
    text = f"{minutes_text(entry.minutes)} recorded for {entry.client.display_name}"
    if entry.minutes != entry.recorded_minutes:
        text += (
            f" ({minutes_text(entry.recorded_minutes)} rounded by the firm's "
            f"{settings.time_increment_minutes}-minute rule)"
        )
    return text + f" on {entry.date:%a %b} {entry.date.day}."


@require_POST
@require_role(Role.STAFF)
def entry_add(request: OrgRequest, org_slug: str) -> HttpResponse:
    member, members = _whose_week(request, request.POST.get("member", ""))
    start = week_start(
        _day(request.POST.get("week", "")) or firm_today(request.organization)
    )
    form = _entry_form(request, request.POST, initial_date=start, bound=True)
    if not member.is_active:
        form.add_error(None, "This person has left the firm: their time is closed.")
    elif form.is_valid():
        data = form.cleaned_data
        try:
            entry = time_entry_create(
                organization=request.organization,
                user=_user_of(request, member),
                client=form.chosen_client,
                date=data["date"],
                minutes=data["duration"],
                engagement=data["engagement"],
                task=data["task"],
                description=data["description"],
                billable=data["billable"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            settings = billing_settings(request.organization)
            messages.success(request, _recorded_text(entry, settings))
            return redirect(_timesheet_url(request, week_start(entry.date), member))
    if posted_date := getattr(form, "cleaned_data", {}).get("date"):
        start = week_start(posted_date)  # show the week the entry was meant for
    return _timesheet(request, start=start, member=member, members=members, form=form)


# One entry ---------------------------------------------------------------------------


def _entries(request: OrgRequest):
    """The entries the member may open: their own; any of the firm's for managers."""
    qs = TimeEntry.objects.filter(organization=request.organization)
    if not request.membership.has_role(Role.MANAGER):
        qs = qs.filter(user=request.user)
    return qs


def _get_entry(request: OrgRequest, entry_uuid) -> TimeEntry:
    return get_object_or_404(
        _entries(request).select_related("client", "engagement", "task", "user"),
        uuid=entry_uuid,
    )


def _entry_week_url(request: OrgRequest, entry: TimeEntry) -> str:
    base = reverse("billing:timesheet", kwargs={"org_slug": request.organization.slug})
    query = {"week": week_start(entry.date).isoformat()}
    if entry.user_id != request.user.pk:
        member = (
            Membership.objects.filter(
                organization=request.organization, user_id=entry.user_id
            )
            .values_list("uuid", flat=True)
            .first()
        )
        if member:
            query["member"] = str(member)
    return f"{base}?{urlencode(query)}"


@require_role(Role.STAFF)
def entry_edit(request: OrgRequest, org_slug: str, entry_uuid) -> HttpResponse:
    # Query: the entry with its client, engagement, task and person.
    entry = _get_entry(request, entry_uuid)
    refusal = billed_refusal(entry) if entry.is_billed else ""
    if request.method == "POST" and refusal:
        messages.error(request, refusal)
        return redirect(request.path)
    form = None
    if not refusal:
        if request.method == "POST":
            source = request.POST
        elif request.htmx:
            source = request.GET
        else:
            source = {
                "client": str(entry.client.uuid),
                "engagement": str(entry.engagement.uuid) if entry.engagement else "",
                "task": str(entry.task.uuid) if entry.task else "",
            }
        # Query: the clients, and the chosen client's engagements and tasks.
        choices = time_choices(
            request,
            client_key=source.get("client", ""),
            engagement_key=source.get("engagement", ""),
            task_key=source.get("task", ""),
            find=source.get("find", ""),
            keep_client=entry.client,
        )
        if request.method == "POST":
            form = TimeEntryForm(request.POST, **choices)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    entry = time_entry_update(
                        entry=entry,
                        client=form.chosen_client,
                        date=data["date"],
                        minutes=data["duration"],
                        engagement=data["engagement"],
                        task=data["task"],
                        description=data["description"],
                        billable=data["billable"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "Time entry saved.")
                    return redirect(_entry_week_url(request, entry))
        else:
            initial = {
                "date": entry.date,
                "duration": entry.minutes,
                "description": entry.description,
                "billable": entry.billable,
                **{k: source.get(k, "") for k in CHOICE_KEYS},
            }
            if request.htmx:  # another client chosen: keep what the form said
                initial["billable"] = "billable" in source
                initial["date"] = _day(source.get("date", "")) or entry.date
                initial["duration"] = source.get("duration", entry.minutes)
                initial["description"] = source.get("description", "")
            form = TimeEntryForm(initial=initial, **choices)
    ctx = {
        "entry": entry,
        "form": form,
        "refusal": refusal,
        "week_url": _entry_week_url(request, entry),
        "refresh_url": request.path,
    }
    template = "billing/entry_form.html"
    if _form_only(request, form):
        template += "#entry_form"
    return render(request, template, ctx)


@require_POST
@require_role(Role.STAFF)
def entry_delete(request: OrgRequest, org_slug: str, entry_uuid) -> HttpResponse:
    entry = _get_entry(request, entry_uuid)
    back = _entry_week_url(request, entry)
    try:
        time_entry_delete(entry=entry)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(
            "billing:entry_edit",
            org_slug=request.organization.slug,
            entry_uuid=entry.uuid,
        )
    messages.success(
        request,
        f"Deleted {minutes_text(entry.minutes)} for {entry.client.display_name} "
        f"on {entry.date:%a %b} {entry.date.day}.",
    )
    return redirect(back)


urlpatterns = [
    path("billing/time/", timesheet, name="timesheet"),
    path("billing/time/add/", entry_add, name="entry_add"),
    path("billing/time/<uuid:entry_uuid>/", entry_edit, name="entry_edit"),
    path("billing/time/<uuid:entry_uuid>/delete/", entry_delete, name="entry_delete"),
]
