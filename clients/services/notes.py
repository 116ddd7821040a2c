"""Writes about notes: create, edit, pin, delete, and the reminder emails."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from advisoros.accounts.models import User
from advisoros.tenancy.models import Membership, Organization, Role
from clients.models import Client, Note

NOTE_FIELDS = (
    "note_type",
    "body",
    "engagement",
    "is_private",
    "is_pinned",
    "remind_at",
)


def note_editable_by(note: Note, membership: Membership) -> bool:
    """The author may change their note; owners and admins may change shared ones."""
    if not membership.can_write:
        return False
    if note.author_id == membership.user_id:
        return True
    return not note.is_private and membership.has_role(Role.ADMIN)


def _save(note: Note) -> None:
    if note.engagement is not None and note.engagement.client_id != note.client_id:
        raise ValidationError({"engagement": "Choose an engagement of this client."})
    note.body = note.body.strip()
    note.full_clean()
    note.save()


@transaction.atomic
def note_create(*, client: Client, author: User, data: dict) -> Note:
    note = Note(
        organization_id=client.organization_id,
        client=client,
        author=author,
        **{k: v for k, v in data.items() if k in NOTE_FIELDS},
    )
    _save(note)
    return note


@transaction.atomic
def note_update(*, note: Note, data: dict) -> Note:
    # Compared with the stored value: a ModelForm has already changed `note`.
    stored_remind_at = (
        Note.objects.filter(pk=note.pk).values_list("remind_at", flat=True).first()
    )
    for name, value in data.items():
        if name in NOTE_FIELDS:
            setattr(note, name, value)
    if note.remind_at != stored_remind_at:
        note.reminded_at = None  # a new reminder time is a new reminder
    _save(note)
    return note


@transaction.atomic
def note_set_pinned(*, note: Note, pinned: bool) -> Note:
    if note.is_pinned != pinned:
        note.is_pinned = pinned
        note.save(update_fields=["is_pinned", "updated_at"])
    return note


@transaction.atomic
def note_delete(*, note: Note) -> None:
    note.delete()


# Reminders -------------------------------------------------------------------------


def firms_with_notes_due(*, now: datetime) -> list[int]:
    """Ids of the firms with a note reminder due, across firms.

    Reads every firm's notes: the caller runs it under `platform_bypass()`.
    """
    return list(
        Note.objects.filter(remind_at__lte=now, reminded_at=None)
        .order_by("organization_id")
        .values_list("organization_id", flat=True)
        .distinct()
    )


def notes_due(
    *, organization: Organization, now: datetime, limit: int = 1000
) -> list[int]:
    """Ids of the firm's notes whose reminder is due, oldest first (at most
    `limit`: the rest wait for the next run)."""
    return list(
        Note.objects.filter(
            organization=organization, remind_at__lte=now, reminded_at=None
        )
        .order_by("remind_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def note_reminder_subject(note: Note) -> str:
    first_line = next((line for line in note.body.splitlines() if line.strip()), "")
    return f"Reminder: {note.client} — {Truncator(first_line.strip()).chars(80)}"


def note_reminder_send(*, organization: Organization, note_id: int) -> bool:
    """Email the author of one due note and mark it reminded. Runs in the firm's context.

    The row lock (SKIP LOCKED) and the `reminded_at IS NULL` test make two workers,
    or a second run, pass over a note that is being or has been reminded.
    """
    with transaction.atomic():
        note = (
            Note.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("client", "author")
            .filter(
                organization=organization,
                pk=note_id,
                reminded_at=None,
                remind_at__lte=timezone.now(),
            )
            .first()
        )
        if note is None:
            return False
        author = note.author
        # A former member gets no firm data by email; the reminder is spent anyway.
        send = (
            author is not None
            and author.is_active
            and Membership.objects.filter(
                organization=organization, user=author, is_active=True
            ).exists()
        )
        if send:
            link = settings.SITE_URL.rstrip("/") + reverse(
                "clients:client_detail",
                kwargs={"org_slug": organization.slug, "client_uuid": note.client.uuid},
            )
            ctx = {
                "note": note,
                "organization": organization,
                "link": f"{link}?tab=notes",
            }
            send_mail(
                subject=note_reminder_subject(note),
                message=render_to_string("clients/email/note_reminder.txt", ctx),
                from_email=None,
                recipient_list=[author.email],
            )
        note.reminded_at = timezone.now()
        note.save(update_fields=["reminded_at", "updated_at"])
    return send
