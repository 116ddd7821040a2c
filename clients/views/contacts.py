"""The people behind a client: add a new one, link an existing one, edit, unlink."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from advisoros.forms import error_text, form_error_text
from advisoros.tenancy.decorators import require_role
from advisoros.tenancy.models import Role
from advisoros.tenancy.request import OrgRequest
from clients.forms.contacts import ContactCreateForm, ContactForm, ContactLinkForm
from clients.models import Client, ClientContact, Contact
from clients.selectors import get_client_or_404, visible_clients, visible_contacts
from clients.services import contacts as contact_services
from clients.tabs import client_tab_url


def _get_contact(request: OrgRequest, contact_uuid) -> Contact:
    return get_object_or_404(visible_contacts(request), uuid=contact_uuid)


def _get_link(request: OrgRequest, client: Client, link_uuid) -> ClientContact:
    return get_object_or_404(
        ClientContact.objects.select_related("contact"),
        organization=request.organization,
        client=client,
        uuid=link_uuid,
    )


@require_role(Role.STAFF)
def contact_create(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    form = ContactCreateForm(
        request.POST or None,
        organization_id=request.organization.pk,
        visible_contacts=visible_contacts(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact = contact_services.contact_create(
                client=client, data=form.cleaned_data, role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{contact} added to {client}.")
            return redirect(client_tab_url(request, client, "contacts"))
    ctx = {"client": client, "form": form, "links": []}
    return render(request, "clients/contact_form.html", ctx)


@require_POST
@require_role(Role.STAFF)
def contact_link(request: OrgRequest, org_slug: str, client_uuid) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    form = ContactLinkForm(request.POST, visible_contacts=visible_contacts(request))
    if form.is_valid():
        contact = form.cleaned_data["contact"]
        try:
            contact_services.contact_link(
                client=client, contact=contact, role=form.cleaned_data["role"]
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"{contact} linked to {client}.")
    else:
        messages.error(request, form_error_text(form))
    return redirect(client_tab_url(request, client, "contacts"))


@require_role(Role.STAFF)
def contact_edit(request: OrgRequest, org_slug: str, contact_uuid) -> HttpResponse:
    contact = _get_contact(request, contact_uuid)
    name = contact.full_name  # the heading, before the form changes the instance
    # The clients this person is linked to, as far as the member may see them.
    links = list(
        ClientContact.objects.filter(
            contact=contact, client__in=visible_clients(request)
        )
        .select_related("client")
        .order_by("client__sort_name", "role")
    )
    # Back to the client the edit started from (?client=<uuid>), else the first one.
    wanted = request.GET.get("client") or request.POST.get("client")
    back = next((x.client for x in links if str(x.client.uuid) == wanted), None)
    back = back or (links[0].client if links else None)
    form = ContactForm(
        request.POST or None,
        instance=contact,
        organization_id=request.organization.pk,
        visible_contacts=visible_contacts(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact_services.contact_update(contact=contact, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{contact} saved.")
            if back is not None:
                return redirect(client_tab_url(request, back, "contacts"))
            return redirect(
                reverse(
                    "clients:contact_edit",
                    kwargs={"org_slug": org_slug, "contact_uuid": contact.uuid},
                )
            )
    ctx = {"client": back, "contact_name": name, "form": form, "links": links}
    return render(request, "clients/contact_form.html", ctx)


@require_POST
@require_role(Role.STAFF)
def contact_unlink(
    request: OrgRequest, org_slug: str, client_uuid, link_uuid
) -> HttpResponse:
    client = get_client_or_404(request, client_uuid)
    link = _get_link(request, client, link_uuid)
    contact_services.contact_unlink(link=link)
    messages.success(
        request,
        f"{link.contact} ({link.get_role_display().lower()}) removed from {client}.",
    )
    return redirect(client_tab_url(request, client, "contacts"))


urlpatterns = [
    path(
        "clients/<uuid:client_uuid>/contacts/new/",
        contact_create,
        name="contact_create",
    ),
    path(
        "clients/<uuid:client_uuid>/contacts/link/",
        contact_link,
        name="contact_link",
    ),
    path(
        "contacts/<uuid:contact_uuid>/edit/",
        contact_edit,
        name="contact_edit",
    ),
    path(
        "clients/<uuid:client_uuid>/contacts/<uuid:link_uuid>/unlink/",
        contact_unlink,
        name="contact_unlink",
    ),
]
