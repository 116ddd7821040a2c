"""Writes about contacts: the people behind a client, each linked with a role."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from clients.models import Client, ClientContact, Contact, ContactRole
from clients.services.search import search_index_clients

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "title")


def contact_with_email(
    *, organization_id: int, email: str, exclude: Contact | None = None
) -> Contact | None:
    """The firm's contact with this email (case-insensitive), if any."""
    if not email:
        return None
    qs = Contact.objects.annotate(email_lower=Lower("email")).filter(
        organization_id=organization_id, email_lower=email.lower()
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.first()


def _check_email(contact: Contact) -> None:
    existing = contact_with_email(
        organization_id=contact.organization_id, email=contact.email, exclude=contact
    )
    if existing is not None:
        raise ValidationError(
            {
                "email": f"A contact with this email already exists: "
                f"{existing.full_name} — link them instead."
            }
        )


def _save(contact: Contact) -> None:
    contact.first_name = contact.first_name.strip()
    contact.last_name = contact.last_name.strip()
    contact.email = contact.email.strip()
    _check_email(contact)
    contact.full_clean(exclude=["clients"])
    try:
        with transaction.atomic():
            contact.save()
    except IntegrityError as exc:  # a concurrent save took the address first
        if "contact_email_unique_per_org" in str(exc):
            raise ValidationError(
                {"email": "A contact with this email already exists."}
            ) from exc
        raise


def _linked_client_ids(contact: Contact) -> list[int]:
    return list(
        ClientContact.objects.filter(contact=contact).values_list(
            "client_id", flat=True
        )
    )


@transaction.atomic
def contact_create(*, client: Client, data: dict, role: str) -> Contact:
    """A new person, linked to `client` with `role`."""
    if role not in ContactRole.values:
        raise ValidationError({"role": "Choose a role."})
    contact = Contact(
        organization_id=client.organization_id,
        **{k: v for k, v in data.items() if k in CONTACT_FIELDS},
    )
    _save(contact)
    ClientContact.objects.create(
        organization_id=client.organization_id,
        client=client,
        contact=contact,
        role=role,
    )
    search_index_clients([client.pk])
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: dict) -> Contact:
    for name, value in data.items():
        if name in CONTACT_FIELDS:
            setattr(contact, name, value)
    _save(contact)
    # Every client the person is linked to is found by their name and email.
    search_index_clients(_linked_client_ids(contact))
    return contact


@transaction.atomic
def contact_link(*, client: Client, contact: Contact, role: str) -> ClientContact:
    """Link an existing person of the firm to another client (or with another role)."""
    if contact.organization_id != client.organization_id:
        raise ValidationError("Choose a contact of this firm.")
    if role not in ContactRole.values:
        raise ValidationError({"role": "Choose a role."})
    if ClientContact.objects.filter(client=client, contact=contact, role=role).exists():
        raise ValidationError(
            f"{contact.full_name} is already linked to {client} in this role."
        )
    link = ClientContact.objects.create(
        organization_id=client.organization_id,
        client=client,
        contact=contact,
        role=role,
    )
    search_index_clients([client.pk])
    return link


@transaction.atomic
def contact_unlink(*, link: ClientContact) -> None:
    """Remove the person from the client; the contact stays in the firm."""
    client_id = link.client_id
    link.delete()
    search_index_clients([client_id])
