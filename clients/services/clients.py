"""Writes about clients: create, edit, archive and restore, and the list's bulk actions."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization
from advisoros.tenancy.plans import CLIENTS, plan_limit_check
from clients.models import (
    Client,
    ClientSearchToken,
    ClientStatus,
    ClientTag,
    Tag,
)
from clients.services.search import search_index_clients
from clients.validators import normalize_tax_id

ASSIGNMENT_FIELDS = ("partner", "manager", "staff")


def _check_assignees(client: Client) -> None:
    """Partner, manager and staff must be active members of the client's firm."""
    ids = {getattr(client, f"{f}_id") for f in ASSIGNMENT_FIELDS} - {None}
    if not ids:
        return
    members = set(
        Membership.objects.filter(
            organization_id=client.organization_id, user_id__in=ids, is_active=True
        ).values_list("user_id", flat=True)
    )
    for f in ASSIGNMENT_FIELDS:
        if getattr(client, f"{f}_id") not in (None, *members):
            raise ValidationError({f: "Choose an active member of the firm."})


def _prepare(client: Client) -> None:
    client.display_name = client.display_name.strip()
    try:
        client.tax_id = normalize_tax_id(client.tax_id, client.entity_type)
    except ValidationError as exc:
        raise ValidationError({"tax_id": exc.messages}) from exc
    client.derive_fields()
    _check_assignees(client)
    _check_code_free(client)
    # The code constraint is checked above: full_clean would name the constraint
    # instead of the field.
    client.full_clean(exclude=["tags"], validate_constraints=False)


def _check_code_free(client: Client) -> None:
    taken = (
        Client.objects.filter(
            organization_id=client.organization_id,
            client_code__iexact=client.client_code,
        )
        .exclude(pk=client.pk)
        .exists()
    )
    if taken:
        raise ValidationError({"client_code": "Another client already has this code."})


def _save(client: Client) -> None:
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as exc:
        if "client_code_unique_per_org" in str(exc):
            raise ValidationError(
                {"client_code": "Another client already has this code."}
            ) from exc
        raise


@transaction.atomic
def client_create(
    *, organization: Organization, data: dict, tags: Iterable[Tag] = ()
) -> Client:
    client = Client(organization=organization, **data)
    _prepare(client)
    if client.status != ClientStatus.ARCHIVED:
        plan_limit_check(organization, CLIENTS)
    _save(client)
    client_set_tags(client=client, tags=tags)
    search_index_clients([client.pk])
    return client


@transaction.atomic
def client_update(
    *, client: Client, data: dict, tags: Iterable[Tag] | None = None
) -> Client:
    was_archived = client.status == ClientStatus.ARCHIVED
    for name, value in data.items():
        setattr(client, name, value)
    _prepare(client)
    if was_archived and client.status != ClientStatus.ARCHIVED:
        plan_limit_check(client.organization, CLIENTS)
    _save(client)
    if tags is not None:
        client_set_tags(client=client, tags=tags)
    search_index_clients([client.pk])
    return client


def client_set_tags(*, client: Client, tags: Iterable[Tag]) -> None:
    wanted = {t.pk for t in tags if t.organization_id == client.organization_id}
    current = set(
        ClientTag.objects.filter(client=client).values_list("tag_id", flat=True)
    )
    ClientTag.objects.filter(client=client, tag_id__in=current - wanted).delete()
    ClientTag.objects.bulk_create(
        ClientTag(organization_id=client.organization_id, client=client, tag_id=t)
        for t in wanted - current
    )


@transaction.atomic
def client_archive(*, client: Client) -> Client:
    """Archived clients leave the default list and search but keep everything."""
    if client.status != ClientStatus.ARCHIVED:
        client.status = ClientStatus.ARCHIVED
        client.archived_at = timezone.now()
        client.save(update_fields=["status", "archived_at", "updated_at"])
        ClientSearchToken.objects.filter(client=client).update(archived=True)
    return client


@transaction.atomic
def client_restore(*, client: Client) -> Client:
    if client.status == ClientStatus.ARCHIVED:
        plan_limit_check(client.organization, CLIENTS)
        client.status = ClientStatus.ACTIVE
        client.archived_at = None
        client.save(update_fields=["status", "archived_at", "updated_at"])
        ClientSearchToken.objects.filter(client=client).update(archived=False)
    return client


# Bulk actions from the list ------------------------------------------------------


@transaction.atomic
def clients_bulk_assign(
    *, clients: Iterable[Client], role: str, user: User | None
) -> int:
    """Set the partner, manager or staff of many clients (None clears it)."""
    if role not in ASSIGNMENT_FIELDS:
        raise ValidationError("Choose partner, manager or staff.")
    changed = 0
    for client in clients:
        setattr(client, role, user)
        _check_assignees(client)
        client.save(update_fields=[role, "updated_at"])  # one audited save per client
        changed += 1
    return changed


@transaction.atomic
def clients_bulk_tag(*, clients: Iterable[Client], tag: Tag) -> int:
    clients = list(clients)
    existing = set(
        ClientTag.objects.filter(tag=tag, client__in=clients).values_list(
            "client_id", flat=True
        )
    )
    new = [
        c
        for c in clients
        if c.pk not in existing and c.organization_id == tag.organization_id
    ]
    ClientTag.objects.bulk_create(
        ClientTag(organization_id=tag.organization_id, client=c, tag=tag) for c in new
    )
    return len(new)


@transaction.atomic
def clients_bulk_archive(*, clients: Iterable[Client]) -> int:
    count = 0
    for client in clients:
        if client.status != ClientStatus.ARCHIVED:
            client_archive(client=client)
            count += 1
    return count


def clients_counted(organization: Organization) -> int:
    """The clients a plan counts (advisoros.tenancy.plans): all but the archived."""
    return (
        Client.objects.filter(organization=organization)
        .exclude(status=ClientStatus.ARCHIVED)
        .count()
    )
