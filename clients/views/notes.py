"""Notes on a client (or one of its engagements): create, edit, pin, delete.

A private note exists only for its author: to anyone else every URL of it is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from advisoros.tenancy.clock import firm_time
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.forms.notes import NoteForm
from clients.models import Note
from clients.selectors import get_client_or_404, visible_notes
from clients.services import notes as note_services
from clients.tabs import client_tab_url
from clients.views.client_detail import client_tabs


def _get_note(request: OrgRequest, note_uuid) -> Note:
    """A note the member may change: others' private notes are not found at all."""
    note = get_object_or_404(
        visible_notes(request).select_related("client", "engagement"), uuid=note_uuid
    )
    if not note_services.note_editable_by(note, request.membership):
        raise PermissionDenied("Only its author, an owner or an admin can change it.")
    return note


def _back_tab(request: OrgRequest) -> str:
    tab = request.POST.get("tab", "notes")
    return tab if tab in client_tabs() else "notes"


@require_role(Role.STAFF)
def note_create(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    with firm_time(request):
        form = NoteForm(
            request.POST or None,
            client=client,
            timezone_name=request.organization.timezone,
        )
        if request.method == "POST" and form.is_valid():
            note_services.note_create(
                client=client, author=request.user, data=form.cleaned_data
            )
            messages.success(request, "Note added.")
            return redirect(client_tab_url(request, client, "notes"))
        ctx = {"client": client, "form": form, "note": None}
        return render(request, "clients/note_form.html", ctx)


@require_role(Role.STAFF)
def note_edit(request: OrgRequest, org_slug: str, note_uuid) -> HttpResponse:
    note = _get_note(request, note_uuid)
    client = note.client
    with firm_time(request):
        form = NoteForm(
            request.POST or None,
            instance=note,
            client=client,
            timezone_name=request.organization.timezone,
        )
        if request.method == "POST" and form.is_valid():
            note_services.note_update(note=note, data=form.cleaned_data)
            messages.success(request, "Note saved.")
            return redirect(client_tab_url(request, client, "notes"))
        ctx = {"client": client, "form": form, "note": note}
        return render(request, "clients/note_form.html", ctx)


@require_POST
@require_role(Role.STAFF)
def note_pin(request: OrgRequest, org_slug: str, note_uuid) -> HttpResponse:
    note = _get_note(request, note_uuid)
    pinned = request.POST.get("pinned", "1") == "1"
    note_services.note_set_pinned(note=note, pinned=pinned)
    messages.success(request, "Note pinned." if pinned else "Note unpinned.")
    return redirect(client_tab_url(request, note.client, _back_tab(request)))


@require_POST
@require_role(Role.STAFF)
def note_delete(request: OrgRequest, org_slug: str, note_uuid) -> HttpResponse:
    note = _get_note(request, note_uuid)
    client = note.client
    note_services.note_delete(note=note)
    messages.success(request, "Note deleted.")
    return redirect(client_tab_url(request, client, _back_tab(request)))


urlpatterns = [
    path("clients/<uuid:client_uuid>/notes/new/", note_create, name="note_create"),
    path("notes/<uuid:note_uuid>/edit/", note_edit, name="note_edit"),
    path("notes/<uuid:note_uuid>/pin/", note_pin, name="note_pin"),
    path("notes/<uuid:note_uuid>/delete/", note_delete, name="note_delete"),
]
