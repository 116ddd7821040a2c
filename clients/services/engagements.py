"""Writes about engagements: create, edit, and the engagement letter."""

from __future__ import annotations

import os
from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.models import Membership
from clients.models import Client, Engagement, EngagementStatus, FeeModel
from clients.signals import engagement_letter_accepted

ROLE_SLOTS = ("partner", "manager", "preparer", "reviewer")
LETTER_MAX_BYTES = 20 * 1024 * 1024


def _check_role_slots(engagement: Engagement) -> None:
    """Partner, manager, preparer and reviewer must be active members of the firm."""
    ids = {getattr(engagement, f"{slot}_id") for slot in ROLE_SLOTS} - {None}
    if not ids:
        return
    members = set(
        Membership.objects.filter(
            organization_id=engagement.organization_id, user_id__in=ids, is_active=True
        ).values_list("user_id", flat=True)
    )
    errors = {
        slot: "Choose an active member of the firm."
        for slot in ROLE_SLOTS
        if getattr(engagement, f"{slot}_id") not in (None, *members)
    }
    if errors:
        raise ValidationError(errors)


def _check_rules(engagement: Engagement) -> None:
    e = engagement
    errors: dict[str, str] = {}
    if e.fee_model == FeeModel.HOURLY and e.hourly_rate is None:
        errors["hourly_rate"] = "An hourly engagement needs an hourly rate."
    elif e.fee_model == FeeModel.FIXED and e.fee_amount is None:
        errors["fee_amount"] = "A fixed-fee engagement needs the fee amount."
    elif e.fee_model == FeeModel.RETAINER and e.fee_amount is None:
        errors["fee_amount"] = "A retainer engagement needs the retainer amount."
    for name in ("hourly_rate", "fee_amount", "budgeted_hours"):
        value = getattr(e, name)
        if value is not None and Decimal(value) < 0 and name not in errors:
            errors[name] = "Enter zero or more."
    if e.period_start and e.period_end and e.period_end < e.period_start:
        errors["period_end"] = "The period cannot end before it starts."
    if e.start_date and e.due_date and e.due_date < e.start_date:
        errors["due_date"] = "The due date cannot be before the start date."
    if errors:
        raise ValidationError(errors)


def _prepare(engagement: Engagement) -> None:
    engagement.name = engagement.name.strip()
    # The completed date follows the status: set on completion (today unless
    # given), cleared when the engagement is reopened.
    if engagement.status == EngagementStatus.COMPLETED:
        if engagement.completed_date is None:
            engagement.completed_date = firm_today(engagement.organization)
    else:
        engagement.completed_date = None
    engagement.full_clean()
    _check_rules(engagement)
    _check_role_slots(engagement)


@transaction.atomic
def engagement_create(*, client: Client, data: dict) -> Engagement:
    engagement = Engagement(
        organization=client.organization, client=client, **_editable(data)
    )
    _prepare(engagement)
    engagement.save()
    return engagement


@transaction.atomic
def engagement_update(*, engagement: Engagement, data: dict) -> Engagement:
    for name, value in _editable(data).items():
        setattr(engagement, name, value)
    _prepare(engagement)
    engagement.save()
    return engagement


# What a form may set; the client, the firm and the letter are set only here.
_NOT_EDITABLE = {
    "organization",
    "client",
    "uuid",
    "created_at",
    "updated_at",
    "letter",
    "letter_filename",
    "letter_accepted_at",
    "letter_accepted_by",
    "letter_accepted_by_name",
    "letter_accepted_ip",
}


def _editable(data: dict) -> dict:
    refused = set(data) & _NOT_EDITABLE
    if refused:
        raise ValueError(f"Not editable here: {', '.join(sorted(refused))}")
    return data


# The engagement letter ------------------------------------------------------------


def _check_letter(upload: UploadedFile) -> None:
    if upload.size is not None and upload.size > LETTER_MAX_BYTES:
        size_mb = upload.size / (1024 * 1024)
        raise ValidationError(
            f"The file is {size_mb:.1f} MB; an engagement letter can be at most "
            f"{LETTER_MAX_BYTES // (1024 * 1024)} MB.",
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    # The name and the browser's content type are the visitor's word; the first
    # bytes of a PDF are always "%PDF-".
    if not head.startswith(b"%PDF"):
        raise ValidationError(
            "This file is not a PDF. Upload the engagement letter as a PDF.",
            code="not_pdf",
        )


def engagement_letter_attach(
    *, engagement: Engagement, upload: UploadedFile
) -> Engagement:
    """Store a new letter (replacing any earlier one) at the model's private path.

    Nothing is stored when the file is refused. A new letter has not been
    accepted yet, so an earlier acceptance is cleared with the old file.
    """
    _check_letter(upload)
    old_name = engagement.letter.name
    storage = engagement.letter.storage
    engagement.letter.save(upload.name or "letter.pdf", File(upload), save=False)
    new_name = engagement.letter.name
    engagement.letter_filename = os.path.basename(upload.name or "letter.pdf")[:255]
    engagement.letter_accepted_at = None
    engagement.letter_accepted_by = None
    engagement.letter_accepted_by_name = ""
    engagement.letter_accepted_ip = None
    try:
        with transaction.atomic():
            engagement.save(
                update_fields=[
                    "letter",
                    "letter_filename",
                    "letter_accepted_at",
                    "letter_accepted_by",
                    "letter_accepted_by_name",
                    "letter_accepted_ip",
                    "updated_at",
                ]
            )
    except Exception:
        storage.delete(new_name)
        raise
    if old_name and old_name != new_name:
        transaction.on_commit(partial(storage.delete, old_name))
    return engagement


def engagement_letter_open(
    *, engagement: Engagement, actor: User, request: HttpRequest | None = None
) -> File:
    """Open the letter for download and record who took a copy.

    Raises FileNotFoundError when there is no letter or its file is missing.
    """
    if not engagement.letter:
        raise FileNotFoundError("This engagement has no letter.")
    handle = engagement.letter.storage.open(engagement.letter.name, "rb")
    audit_event_record(
        action=AuditAction.ENGAGEMENT_LETTER_DOWNLOADED,
        organizations=[engagement.organization_id],
        actor=actor,
        target=_audit_target(engagement),
        request=request,
        detail={
            "engagement": str(engagement.uuid),
            "client": str(engagement.client.uuid),
            "filename": engagement.letter_filename,
        },
    )
    return handle


@transaction.atomic
def engagement_letter_accept(
    *,
    engagement: Engagement,
    accepted_by: User | None,
    accepted_by_name: str,
    ip_address: str | None,
    request: HttpRequest | None = None,
) -> Engagement:
    """Record that the client accepted the letter: who signed, who recorded it,
    when and from which address. Sends `engagement_letter_accepted` after commit."""
    # Locked so two clicks cannot both accept (and both signal).
    locked = Engagement.objects.select_for_update().get(pk=engagement.pk)
    name = (accepted_by_name or "").strip()
    if not locked.letter:
        raise ValidationError(
            "Upload the engagement letter before marking it accepted."
        )
    if locked.letter_accepted_at is not None:
        raise ValidationError(
            "This letter was already accepted on "
            f"{locked.letter_accepted_at:%b %d, %Y} by "
            f"{locked.letter_accepted_by_name or 'the client'}."
        )
    if not name:
        raise ValidationError(
            {"accepted_by_name": "Type the name of the person who signed the letter."}
        )
    engagement.letter_accepted_at = timezone.now()
    engagement.letter_accepted_by = accepted_by
    engagement.letter_accepted_by_name = name[:200]
    engagement.letter_accepted_ip = ip_address
    engagement.save(
        update_fields=[
            "letter_accepted_at",
            "letter_accepted_by",
            "letter_accepted_by_name",
            "letter_accepted_ip",
            "updated_at",
        ]
    )
    audit_event_record(
        action=AuditAction.ENGAGEMENT_LETTER_ACCEPTED,
        organizations=[engagement.organization_id],
        actor=accepted_by,
        target=_audit_target(engagement),
        request=request,
        detail={
            "engagement": str(engagement.uuid),
            "accepted_by_name": engagement.letter_accepted_by_name,
            "ip_address": ip_address,
        },
    )
    transaction.on_commit(
        partial(
            engagement_letter_accepted.send,
            sender=Engagement,
            engagement=engagement,
            accepted_by=accepted_by,
            accepted_by_name=engagement.letter_accepted_by_name,
        )
    )
    return engagement


def _audit_target(engagement: Engagement) -> str:
    return f"{engagement.name} ({engagement.client.display_name})"[:254]
