"""Normalising and checking what people type about clients."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from clients.models import EntityType

_DIGITS = re.compile(r"\D")


def normalize_tax_id(value: str, entity_type: str) -> str:
    """A US taxpayer id as the IRS writes it: SSN/ITIN 123-45-6789, EIN 12-3456789.

    Individuals and sole proprietors may have either; companies, partnerships,
    nonprofits, trusts and estates have an EIN.
    """
    raw = (value or "").strip()
    if not raw:
        return ""
    digits = _DIGITS.sub("", raw)
    if len(digits) != 9 or re.fullmatch(r"[\d\s-]+", raw) is None:
        raise ValidationError(
            "A tax id has 9 digits: an SSN or ITIN as 123-45-6789, an EIN as 12-3456789.",
            code="tax_id_format",
        )
    if digits == "000000000" or digits == digits[0] * 9:
        raise ValidationError("This is not a valid tax id.", code="tax_id_invalid")
    person = EntityType(entity_type).is_person
    looks_like_ein = re.fullmatch(r"\d{2}-\d{7}", raw) is not None
    if not person and re.fullmatch(r"\d{3}-\d{2}-\d{4}", raw):
        raise ValidationError(
            "A business, partnership, nonprofit or trust files under an EIN (12-3456789), not an SSN.",
            code="tax_id_kind",
        )
    if person and not looks_like_ein:
        area = digits[:3]
        if area in ("000", "666") or digits[3:5] == "00" or digits[5:] == "0000":
            raise ValidationError(
                "This is not a valid SSN or ITIN.", code="tax_id_invalid"
            )
        return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
    return f"{digits[:2]}-{digits[2:]}"
