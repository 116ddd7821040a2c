"""The client page: a header of key facts and tabs (overview, contacts, engagements,
notes, timeline), plus the links between clients shown on its overview.

With htmx a tab link fetches only the tab panel (same URL, HX-Request header);
without JavaScript the same link renders the whole page on that tab.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from advisoros.forms import error_text, form_error_text
from advisoros.http import get_only
from advisoros.tenancy.clock import firm_time
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.forms.contacts import ContactSearchForm
from clients.forms.notes import NoteForm
from clients.forms.relationships import RelationshipForm
from clients.models import (
    OPEN_ENGAGEMENT_STATUSES,
    Client,
    ClientContact,
    ClientRelationship,
    ContactRole,
    Engagement,
    Note,
    RelationshipKind,
)
from clients.selectors import (
    get_client_or_404,
    sees_assigned_only,
    visible_clients,
    visible_contacts,
)
from clients.services import relationships as relationship_services
from clients.services.notes import note_editable_by
from clients.tabs import client_tab_url, registered_client_tabs
from clients.timeline import client_timeline

OWN_TABS = {
    "overview": "Overview",
    "contacts": "Contacts",
    "engagements": "Engagements",
    "notes": "Notes",
}
NOTES_SHOWN = 100
TIMELINE_SHOWN = 50
RECENT_SHOWN = 5  # the overview's recent activity
CONTACT_MATCHES_SHOWN = 10

# How a relationship reads from its other end ("Parent company of" -> "Subsidiary of").
INVERSE_LABELS = {
    RelationshipKind.SPOUSE: "Spouse",
    RelationshipKind.HOUSEHOLD: "Same household",
    RelationshipKind.PARENT_COMPANY: "Subsidiary of",
    RelationshipKind.OWNER: "Owned by",
    RelationshipKind.RELATED: "Related",
}


# The page ----------------------------------------------------------------------------


def _with_permissions(request: OrgRequest, notes) -> list[Note]:
    """The notes, each marked with whether the member may change it."""
    notes = list(notes)
    for note in notes:
        note.editable = note_editable_by(note, request.membership)
    return notes


def _seen(request: OrgRequest, field: str) -> Q:
    """Limit `field` to the clients the member may see. Nothing to add for members
    who see every client: a subquery over the whole firm would only cost time."""
    if not sees_assigned_only(request.membership):
        return Q()
    return Q(**{f"{field}__in": visible_clients(request)})


def _client_notes(request: OrgRequest, client: Client) -> QuerySet[Note]:
    """The page's client is visible already: what is left is the privacy rule."""
    return Note.objects.filter(
        Q(is_private=False) | Q(author=request.user),
        organization=request.organization,
        client=client,
    ).select_related("author", "engagement")


def _client_engagements(request: OrgRequest, client: Client) -> QuerySet[Engagement]:
    """Whoever sees a client sees all its engagements (see visible_engagements)."""
    return Engagement.objects.filter(
        organization=request.organization, client=client
    ).select_related("partner")


def _overview(request: OrgRequest, client: Client) -> dict:
    relationships = (
        ClientRelationship.objects.filter(
            (Q(from_client=client) & _seen(request, "to_client"))
            | (Q(to_client=client) & _seen(request, "from_client")),
            organization=request.organization,
        )
        .select_related("from_client", "to_client")
        .order_by("kind", "created_at")
    )
    related = [
        {
            "relationship": r,
            "label": RelationshipKind(r.kind).label
            if r.from_client_id == client.pk
            else INVERSE_LABELS[r.kind],
            "other": r.to_client if r.from_client_id == client.pk else r.from_client,
        }
        for r in relationships
    ]
    return {
        # Query: pinned notes with their authors.
        "pinned_notes": _with_permissions(
            request,
            _client_notes(request, client)
            .filter(is_pinned=True)
            .order_by("-created_at")[:10],
        ),
        # Query: links to and from other clients the member sees.
        "related": related,
        "relationship_form": RelationshipForm(visible_clients=visible_clients(request)),
        # Query: open engagements, soonest due first.
        "upcoming": _client_engagements(request, client)
        .filter(status__in=OPEN_ENGAGEMENT_STATUSES)
        .order_by(F("due_date").asc(nulls_last=True), "id")[:5],
        # The recent activity (a query per timeline source) comes from
        # client_activity once the page is shown.
    }


def _contacts(request: OrgRequest, client: Client) -> dict:
    others = (
        ClientContact.objects.filter(
            _seen(request, "client"), organization=request.organization
        )
        .exclude(client=client)
        .select_related("client")
        .order_by("client__sort_name")
    )
    links = (
        ClientContact.objects.filter(organization=request.organization, client=client)
        .select_related("contact")
        .prefetch_related(
            Prefetch("contact__client_contacts", queryset=others, to_attr="elsewhere")
        )
        .order_by("contact__last_name", "contact__first_name", "role")
    )
    search = ContactSearchForm(request.GET or None)
    matches = []
    if search.is_valid() and search.cleaned_data["find"]:
        term = search.cleaned_data["find"].strip()
        matches = (
            visible_contacts(request)
            .filter(
                Q(first_name__istartswith=term)
                | Q(last_name__istartswith=term)
                | Q(email__istartswith=term)
            )
            .order_by("last_name", "first_name")[:CONTACT_MATCHES_SHOWN]
        )
    return {
        "links": links,
        "search_form": search,
        "matches": matches,
        "roles": ContactRole.choices,
    }


def _engagements(request: OrgRequest, client: Client) -> dict:
    return {
        "engagements": _client_engagements(request, client).order_by(
            F("tax_year").desc(nulls_last=True), F("due_date").asc(nulls_last=True)
        )
    }


def _notes(request: OrgRequest, client: Client) -> dict:
    notes = _with_permissions(
        request,
        _client_notes(request, client).order_by("-is_pinned", "-created_at")[
            :NOTES_SHOWN
        ],
    )
    return {
        "notes": notes,
        "notes_capped": len(notes) == NOTES_SHOWN,
        "note_form": NoteForm(
            client=client, timezone_name=request.organization.timezone
        ),
    }


def _timeline(request: OrgRequest, client: Client) -> dict:
    return {
        "timeline": client_timeline(
            client, viewer=request.membership, limit=TIMELINE_SHOWN
        )
    }


TAB_CONTEXT: dict[str, Callable[[OrgRequest, Client], dict]] = {
    "overview": _overview,
    "contacts": _contacts,
    "engagements": _engagements,
    "notes": _notes,
    "timeline": _timeline,
}


def client_tabs() -> dict[str, str]:
    """The client page's tabs: its own, those other apps registered, the timeline."""
    extra = {key: tab.label for key, tab in registered_client_tabs().items()}
    return {**OWN_TABS, **extra, "timeline": "Timeline"}


@require_role(Role.READONLY)
def client_detail(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    tabs = client_tabs()
    tab = request.GET.get("tab", "overview")
    if tab not in tabs:
        tab = "overview"
    registered = registered_client_tabs().get(tab)
    # An htmx tab switch swaps only the tabs; going back to a page htmx no longer
    # has cached asks for the whole page again.
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    clients = visible_clients(request).select_related("partner", "manager", "staff")
    if not partial:
        clients = clients.prefetch_related("tags")  # the header's tags
    client = get_object_or_404(clients, uuid=client_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    with firm_time(request):
        ctx = {
            "client": client,
            "tab": tab,
            "tabs": tabs,
            "tab_template": (
                registered.template if registered else f"clients/client_tab_{tab}.html"
            ),
            "can_write": request.membership.can_write,
            **(registered.context if registered else TAB_CONTEXT[tab])(request, client),
        }
        template = (
            "clients/client_tabs.html" if partial else "clients/client_detail.html"
        )
        response = render(request, template, ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_role(Role.READONLY)
def client_activity(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    """The overview's "Recent activity", which htmx asks for once the page is
    shown: a timeline asks every registered source (six queries and counting,
    as apps add theirs), and the client's facts should not wait for it."""
    client = get_client_or_404(request, client_uuid)
    if not_allowed := get_only(request):
        return not_allowed
    with firm_time(request):
        return render(
            request,
            "clients/client_activity.html",
            {
                "client": client,
                "timeline": client_timeline(
                    client, viewer=request.membership, limit=RECENT_SHOWN
                ),
            },
        )


# Relationships between clients ----------------------------------------------------------


@require_POST
@require_role(Role.STAFF)
def relationship_create(
    request: OrgRequest, org_slug: str, client_uuid
) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    form = RelationshipForm(request.POST, visible_clients=visible_clients(request))
    if form.is_valid():
        other = form.cleaned_data["client_code"]
        try:
            relationship_services.relationship_create(
                from_client=client, to_client=other, kind=form.cleaned_data["kind"]
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"{client} is now linked to {other}.")
    else:
        messages.error(request, form_error_text(form))
    return redirect(client_tab_url(request, client, "overview"))


@require_POST
@require_role(Role.STAFF)
def relationship_delete(
    request: OrgRequest, org_slug: str, relationship_uuid
) -> HttpResponse:
    visible = visible_clients(request)
    relationship = get_object_or_404(
        ClientRelationship.objects.select_related("from_client", "to_client"),
        organization=request.organization,
        uuid=relationship_uuid,
        from_client__in=visible,
        to_client__in=visible,
    )
    # Back to the page the form was on: either end of the link.
    back = (
        relationship.to_client
        if request.POST.get("client") == str(relationship.to_client.uuid)
        else relationship.from_client
    )
    relationship_services.relationship_delete(relationship=relationship)
    messages.success(
        request,
        f"{relationship.from_client} and {relationship.to_client} are no longer linked.",
    )
    return redirect(client_tab_url(request, back, "overview"))


urlpatterns = [
    path("clients/<uuid:client_uuid>/", client_detail, name="client_detail"),
    path(
        "clients/<uuid:client_uuid>/activity/", client_activity, name="client_activity"
    ),
    path(
        "clients/<uuid:client_uuid>/relationships/new/",
        relationship_create,
        name="relationship_create",
    ),
    path(
        "relationships/<uuid:relationship_uuid>/delete/",
        relationship_delete,
        name="relationship_delete",
    ),
]
