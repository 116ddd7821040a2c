"""A private note is its author's alone: its body appears nowhere else, for anyone.

Sam writes a private note whose body carries a marker word; Alice (the owner)
and Adam (an admin) look everywhere a note's content could travel: the change
log's rows, the audit page and its export, the timeline, the engagement page,
search, the client export, reminder emails and the Django admin. Sam still
reads his note; public notes are logged and shown as before.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from auditlog.context import disable_auditlog
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.utils import timezone

from advisoros.audit.models import LogEntry
from advisoros.audit.services import log_created
from advisoros.tenancy.db import platform_bypass, tenant_context
from clients.models import Note
from clients.services.notes import note_create, note_update
from clients.tasks import note_reminders_send

MARKER = "Quokkamarker"  # one word: search would find it as a token
MASK = "••••••••"
VIEWERS = ("alice", "adam")  # the owner and an admin: they see the audit trail


@pytest.fixture
def jane(cast, make_client):
    return make_client(cast.alpha, "Jane Doe")


@pytest.fixture
def engagement(jane, make_engagement):
    return make_engagement(jane, "2025 return")


def _write(web, client, body: str, **fields) -> Note:
    """Sam writes a note through the page, as in production (the log has its actor)."""
    data = {"note_type": "general", "body": body, **fields}
    response = web.post(f"/o/alpha/clients/{client.uuid}/notes/new/", data)
    assert response.status_code == 302
    with tenant_context(client.organization):
        return Note.objects.filter(client=client).latest("created_at")


def _edit(web, note: Note, body: str, **fields) -> None:
    data = {"note_type": "general", "body": body, **fields}
    response = web.post(f"/o/alpha/notes/{note.uuid}/edit/", data)
    assert response.status_code == 302


@pytest.fixture
def secret(cast, login_as, jane, engagement) -> Note:
    """Sam's private note on Jane's engagement, written and then edited."""
    web = login_as(cast.sam)
    note = _write(
        web,
        jane,
        f"{MARKER} wants to sell the business",
        is_private="on",
        engagement=engagement.pk,
        is_pinned="on",
    )
    _edit(
        web,
        note,
        f"{MARKER} wants to sell the business next year",
        is_private="on",
        engagement=engagement.pk,
        is_pinned="on",
    )
    return note


def _note_entries(note: Note) -> list[LogEntry]:
    with platform_bypass():
        return list(
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Note),
                object_id=note.pk,
            ).order_by("pk")
        )


def _rows_holding(text: str) -> int:
    """Change-log rows holding `text` in any column (changes, repr, snapshots)."""
    with platform_bypass(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM audit_logentry e WHERE row_to_json(e)::text LIKE %s",
            [f"%{text}%"],
        )
        return cursor.fetchone()[0]


def _old_entry(note: Note, action: int, changes: dict) -> LogEntry:
    """A row as the change log wrote it before private notes were masked."""
    with tenant_context(note.organization):
        return LogEntry.objects.create(
            organization=note.organization,
            content_type=ContentType.objects.get_for_model(Note),
            object_pk=str(note.pk),
            object_id=note.pk,
            object_repr=str(note),
            action=action,
            changes=changes,
        )


# The change log --------------------------------------------------------------------


def test_the_change_log_records_who_wrote_and_edited_it_but_not_its_body(cast, secret):
    created, edited = _note_entries(secret)

    assert _rows_holding(MARKER) == 0
    assert created.action == LogEntry.Action.CREATE
    assert created.actor == cast.sam
    assert created.changes["is_private"] == ["None", "True"]
    assert created.changes["body"] == [MASK, MASK]
    assert edited.action == LogEntry.Action.UPDATE
    assert edited.actor == cast.sam
    assert edited.changes == {"body": [MASK, MASK]}


def test_a_public_note_made_private_stops_logging_its_body_and_back(
    cast, login_as, jane
):
    web = login_as(cast.sam)
    note = _write(web, jane, "Shared at first")
    _edit(web, note, f"{MARKER} made private", is_private="on")
    _edit(web, note, f"{MARKER} still private", is_private="on")
    _edit(web, note, "Shared again")  # public from here on
    _edit(web, note, "Shared and edited")

    created, to_private, private_edit, to_public, public_edit = _note_entries(note)

    assert _rows_holding(MARKER) == 0
    assert created.changes["body"] == ["None", "Shared at first"]
    assert to_private.changes == {
        "body": [MASK, MASK],
        "is_private": ["False", "True"],
    }
    assert private_edit.changes == {"body": [MASK, MASK]}
    # The change that made it public still touched a private body: masked.
    assert to_public.changes["body"] == [MASK, MASK]
    assert public_edit.changes == {"body": ["Shared again", "Shared and edited"]}


def test_deleting_a_private_note_logs_the_deletion_without_its_body(
    cast, login_as, secret
):
    response = login_as(cast.sam).post(f"/o/alpha/notes/{secret.uuid}/delete/")

    assert response.status_code == 302
    deleted = _note_entries(secret)[-1]
    assert deleted.action == LogEntry.Action.DELETE
    assert deleted.actor == cast.sam
    assert deleted.changes["body"] == [MASK, MASK]
    assert _rows_holding(MARKER) == 0


def test_a_public_note_is_logged_in_full_as_before(cast, login_as, jane):
    note = _write(login_as(cast.sam), jane, "Called about the K-1s")

    [created] = _note_entries(note)

    assert created.changes["body"] == ["None", "Called about the K-1s"]
    assert created.changes["is_private"] == ["None", "False"]


def test_notes_inserted_in_bulk_are_logged_with_the_same_mask(cast, jane):
    with tenant_context(cast.alpha), disable_auditlog():
        notes = Note.objects.bulk_create(
            Note(
                organization=cast.alpha,
                client=jane,
                author=cast.sam,
                body=body,
                is_private=is_private,
            )
            for body, is_private in ((f"{MARKER} bulk", True), ("Bulk shared", False))
        )
    with tenant_context(cast.alpha):
        log_created(notes, actor=cast.sam)

    private, shared = (_note_entries(note)[0] for note in notes)
    assert private.changes["body"] == [MASK, MASK]
    assert shared.changes["body"] == ["None", "Bulk shared"]
    assert _rows_holding(MARKER) == 0


# The audit page and its export ------------------------------------------------------


@pytest.mark.parametrize("who", VIEWERS)
def test_the_audit_page_shows_the_note_was_written_not_what_it_says(
    cast, login_as, secret, who
):
    response = login_as(getattr(cast, who)).get("/o/alpha/audit/", {"kind": "changes"})

    html = response.content.decode()
    assert response.status_code == 200
    assert MARKER not in html
    notes = [
        e
        for e in response.context["page"].object_list
        if e.content_type.model == "note" and e.object_id == secret.pk
    ]
    assert [e.action for e in notes] == [LogEntry.Action.UPDATE, LogEntry.Action.CREATE]
    assert "sam@alpha.test" in html


@pytest.mark.parametrize("who", VIEWERS)
def test_the_audit_export_leaves_the_body_out(cast, login_as, secret, who):
    response = login_as(getattr(cast, who)).get(
        "/o/alpha/audit/export.csv", {"kind": "changes"}
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert MARKER not in body
    rows = [r for r in csv.reader(io.StringIO(body)) if r[3] == "note"]
    assert [(r[1], r[2]) for r in rows] == [
        ("sam@alpha.test", "update"),
        ("sam@alpha.test", "create"),
    ]


def test_the_changes_tab_makes_the_same_number_of_queries_for_3_or_20_notes(
    cast, login_as, jane, django_assert_num_queries
):
    web = login_as(cast.alice)
    # The first request also writes the session.
    web.get("/o/alpha/audit/", {"kind": "changes"})
    for extra_notes in (3, 17):
        with tenant_context(cast.alpha):
            for i in range(extra_notes):
                note = note_create(
                    client=jane,
                    author=cast.sam,
                    data={"body": f"{MARKER} {i}", "is_private": True},
                )
                note_update(note=note, data={"body": f"{MARKER} {i} edited"})
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms, 5 count for the paginator, 6 the "who" filter's choices, 7 a page of
        # changes with their actors and types, 8 the recorded privacy of the page's
        # notes (an edit's row does not say whether the note was private), 9 reset
        # the RLS context.
        with django_assert_num_queries(9):
            response = web.get("/o/alpha/audit/", {"kind": "changes"})
        assert MARKER not in response.content.decode()
    rows = response.context["page"].object_list
    assert sum(e.content_type.model == "note" for e in rows) == 40


def test_rows_written_before_the_rule_are_redacted_when_shown(cast, login_as, jane):
    """The log is append-only (a trigger refuses UPDATE): old rows holding a private
    body stay in the table, and the page and export mask them from the note's history."""
    with tenant_context(cast.alpha), disable_auditlog():
        note = Note.objects.create(
            organization=cast.alpha, client=jane, author=cast.sam, body="Now public"
        )
    # What the old code stored: created private, edited while private (the row
    # does not say so), made public with a new body, then edited in public.
    _old_entry(
        note, 0, {"body": ["None", f"{MARKER} 1"], "is_private": ["None", "True"]}
    )
    _old_entry(note, 1, {"body": [f"{MARKER} 1", f"{MARKER} 2"]})
    _old_entry(
        note,
        1,
        {"body": [f"{MARKER} 2", "Now public"], "is_private": ["True", "False"]},
    )
    _old_entry(note, 1, {"body": ["Now public", "Public and edited"]})
    assert _rows_holding(MARKER) > 0
    web = login_as(cast.alice)

    page = web.get("/o/alpha/audit/", {"kind": "changes"}).content.decode()
    export = web.get("/o/alpha/audit/export.csv", {"kind": "changes"}).content.decode()

    for shown in (page, export):
        assert MARKER not in shown
        assert "Public and edited" in shown  # a public note's history stays readable


def test_an_old_row_of_a_note_with_no_recorded_privacy_follows_the_note(
    cast, login_as, jane
):
    """Rows with no record of the flag (a note seeded in bulk) follow the note as it
    is now; a note that is gone as well counts as private."""
    with tenant_context(cast.alpha), disable_auditlog():
        shared, private, gone = (
            Note.objects.create(
                organization=cast.alpha,
                client=jane,
                author=cast.sam,
                body="x",
                is_private=is_private,
            )
            for is_private in (False, True, True)
        )
    _old_entry(shared, 1, {"body": ["x", "Shared text"]})
    _old_entry(private, 1, {"body": ["x", f"{MARKER} private"]})
    _old_entry(gone, 1, {"body": ["x", f"{MARKER} gone"]})
    with tenant_context(cast.alpha), disable_auditlog():
        Note.objects.filter(pk=gone.pk).delete()

    page = login_as(cast.adam).get("/o/alpha/audit/", {"kind": "changes"})

    html = page.content.decode()
    assert "Shared text" in html
    assert MARKER not in html


# Everywhere else a note's content could travel ---------------------------------------


@pytest.mark.parametrize("who", VIEWERS)
def test_the_timeline_and_recent_activity_leave_it_out(
    cast, login_as, jane, secret, who
):
    web = login_as(getattr(cast, who))

    timeline = web.get(f"/o/alpha/clients/{jane.uuid}/?tab=timeline")
    activity = web.get(f"/o/alpha/clients/{jane.uuid}/activity/")

    assert timeline.status_code == activity.status_code == 200
    assert MARKER not in timeline.content.decode()
    assert MARKER not in activity.content.decode()


@pytest.mark.parametrize("who", VIEWERS)
def test_the_engagement_page_leaves_it_out(cast, login_as, secret, engagement, who):
    response = login_as(getattr(cast, who)).get(
        f"/o/alpha/engagements/{engagement.uuid}/"
    )

    assert response.status_code == 200
    assert MARKER not in response.content.decode()


@pytest.mark.parametrize("who", VIEWERS)
def test_search_does_not_find_a_client_by_a_private_note(cast, login_as, secret, who):
    response = login_as(getattr(cast, who)).get("/o/alpha/clients/", {"q": MARKER})

    assert response.status_code == 200
    assert list(response.context["page"].rows) == []
    assert f"{MARKER} wants" not in response.content.decode()


@pytest.mark.parametrize("who", VIEWERS)
def test_the_client_export_leaves_it_out(cast, login_as, secret, who):
    response = login_as(getattr(cast, who)).get("/o/alpha/clients/export.csv")

    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200
    assert "Jane Doe" in body
    assert MARKER not in body


def test_a_reminder_about_a_private_note_goes_to_its_author_alone(
    cast, login_as, secret, run_schedule
):
    with tenant_context(cast.alpha):
        Note.objects.filter(pk=secret.pk).update(
            remind_at=timezone.now() - timedelta(minutes=1)
        )

    assert run_schedule(note_reminders_send) == 1

    [email] = mail.outbox
    assert email.to == ["sam@alpha.test"]
    assert email.cc == email.bcc == []
    assert MARKER in email.body  # the author's own note, in the author's inbox


@pytest.mark.parametrize("who", VIEWERS)
def test_the_admin_change_log_leaves_it_out(cast, login_as, secret, who):
    web = login_as(getattr(cast, who))
    assert web.get("/o/alpha/").status_code == 200  # the firm the admin works on
    entries = _note_entries(secret)

    listing = web.get("/admin/audit/logentry/")
    pages = [web.get(f"/admin/audit/logentry/{e.pk}/change/") for e in entries]

    assert listing.status_code == 200
    assert MARKER not in listing.content.decode()
    for page in pages:
        assert page.status_code == 200
        assert MARKER not in page.content.decode()
        assert MASK in page.content.decode()


# The author ------------------------------------------------------------------------


def test_the_author_still_reads_their_note(cast, login_as, jane, secret, engagement):
    web = login_as(cast.sam)

    for url in (
        f"/o/alpha/clients/{jane.uuid}/?tab=notes",
        f"/o/alpha/clients/{jane.uuid}/?tab=overview",
        f"/o/alpha/clients/{jane.uuid}/?tab=timeline",
        f"/o/alpha/engagements/{engagement.uuid}/",
        f"/o/alpha/notes/{secret.uuid}/edit/",
    ):
        assert f"{MARKER} wants to sell the business next year" in (
            web.get(url).content.decode()
        ), url
