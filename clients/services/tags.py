"""Writes about a firm's tags."""

from __future__ import annotations

import zlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from advisoros.tenancy.models import Organization
from clients.models import Tag

# Chip colours for new tags, dark enough for white text.
TAG_COLORS = (
    "#1d4ed8",
    "#047857",
    "#b45309",
    "#7c3aed",
    "#be185d",
    "#0e7490",
    "#4d7c0f",
    "#b91c1c",
    "#475569",
)


def tag_find_or_create(*, organization: Organization, name: str) -> Tag:
    """The firm's tag with this name (any case), created when there is none."""
    name = " ".join(name.split())[:50]
    if not name:
        raise ValidationError({"name": "A tag needs a name."})

    def existing() -> Tag | None:
        return (
            Tag.objects.filter(organization=organization)
            .annotate(lower_name=Lower("name"))
            .filter(lower_name=name.lower())
            .first()
        )

    tag = existing()
    if tag is not None:
        return tag
    color = TAG_COLORS[zlib.crc32(name.lower().encode()) % len(TAG_COLORS)]
    try:
        with transaction.atomic():
            return Tag.objects.create(organization=organization, name=name, color=color)
    except IntegrityError:
        # Someone created it a moment ago: tag_unique_name_per_org.
        tag = existing()
        if tag is None:
            raise
        return tag
