"""Writes about links between clients: spouses, households, parent companies, owners."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from clients.models import Client, ClientRelationship, RelationshipKind

# Kinds that read the same from both ends: A spouse of B is B spouse of A.
SYMMETRIC_KINDS = {
    RelationshipKind.SPOUSE,
    RelationshipKind.HOUSEHOLD,
    RelationshipKind.RELATED,
}


@transaction.atomic
def relationship_create(
    *, from_client: Client, to_client: Client, kind: str
) -> ClientRelationship:
    if from_client.organization_id != to_client.organization_id:
        raise ValidationError("Choose a client of this firm.")
    if from_client.pk == to_client.pk:
        raise ValidationError("A client cannot be related to itself.")
    if kind not in RelationshipKind.values:
        raise ValidationError({"kind": "Choose a kind of relationship."})
    same = Q(from_client=from_client, to_client=to_client, kind=kind)
    if kind in SYMMETRIC_KINDS:
        same |= Q(from_client=to_client, to_client=from_client, kind=kind)
    if ClientRelationship.objects.filter(same).exists():
        raise ValidationError(f"{from_client} and {to_client} are already linked so.")
    return ClientRelationship.objects.create(
        organization_id=from_client.organization_id,
        from_client=from_client,
        to_client=to_client,
        kind=kind,
    )


@transaction.atomic
def relationship_delete(*, relationship: ClientRelationship) -> None:
    relationship.delete()
