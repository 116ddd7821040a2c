"""Notes: typed, optionally on an engagement, private to their author, pinned, with
a reminder time typed in the firm's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from advisoros.accounts.models import User
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Role
from clients.models import Note, NoteType
from tests.conftest import PASSWORD


@pytest.fixture
def sue(cast) -> User:
    """A second staff member of Alpha."""
    with platform_bypass():
        user = User.objects.create_user("sue@alpha.test", PASSWORD, name="Sue Staff")
        Membership.objects.create(organization=cast.alpha, user=user, role=Role.STAFF)
    return user


def _note(client, author, body="A note", **fields) -> Note:
    with tenant_context(client.organization):
        return Note.objects.create(
            organization=client.organization,
            client=client,
            author=author,
            body=body,
            **fields,
        )


def _notes(client) -> list[Note]:
    with tenant_context(client.organization):
        return list(Note.objects.filter(client=client).order_by("created_at"))


def test_a_note_is_added_with_its_type_flags_and_author(cast, login_as, jane):
    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/notes/new/",
        {
            "note_type": NoteType.CALL,
            "body": "Called about the K-1s.",
            "is_pinned": "on",
            "is_private": "on",
        },
    )

    assert response.status_code == 302
    assert response.url == f"/o/alpha/clients/{jane.uuid}/?tab=notes"
    [note] = _notes(jane)
    assert (note.note_type, note.body, note.author) == (
        "call",
        "Called about the K-1s.",
        cast.sam,
    )
    assert note.is_pinned and note.is_private and note.engagement_id is None


def test_a_note_needs_a_body(cast, login_as, jane):
    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/notes/new/", {"note_type": "general", "body": ""}
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert _notes(jane) == []


def test_a_note_can_be_about_one_of_the_clients_engagements_only(
    cast, login_as, jane, make_client, make_engagement
):
    ours = make_engagement(jane, "2025 return")
    theirs = make_engagement(make_client(cast.alpha, "Other"), "Not ours")
    web = login_as(cast.sam)
    url = f"/o/alpha/clients/{jane.uuid}/notes/new/"

    web.post(url, {"note_type": "general", "body": "On it", "engagement": ours.pk})
    refused = web.post(
        url, {"note_type": "general", "body": "Wrong", "engagement": theirs.pk}
    )

    assert "Select a valid choice" in refused.content.decode()
    [note] = _notes(jane)
    assert note.engagement_id == ours.pk
    html = web.get(f"/o/alpha/clients/{jane.uuid}/?tab=notes").content.decode()
    assert "on 2025 return" in html


def test_a_reminder_is_typed_in_the_firms_time_zone_and_stored_in_utc(
    cast, login_as, jane
):
    cast.alpha.timezone = "America/Los_Angeles"
    cast.alpha.save()
    web = login_as(cast.sam)

    web.post(
        f"/o/alpha/clients/{jane.uuid}/notes/new/",
        {
            "note_type": "reminder",
            "body": "Chase the W-2",
            "remind_at": "2027-01-15T09:30",
        },
    )

    [note] = _notes(jane)
    assert note.remind_at == datetime(2027, 1, 15, 17, 30, tzinfo=UTC)
    form = web.get(f"/o/alpha/notes/{note.uuid}/edit/").content.decode()
    assert 'value="2027-01-15T09:30"' in form
    assert "America/Los_Angeles time" in form


def test_moving_a_reminder_sends_it_again(cast, login_as, jane):
    sent = datetime(2027, 1, 1, 12, tzinfo=UTC)
    note = _note(jane, cast.sam, "Call back", remind_at=sent, reminded_at=sent)
    web = login_as(cast.sam)
    url = f"/o/alpha/notes/{note.uuid}/edit/"

    web.post(
        url,
        {
            "note_type": "general",
            "body": "Call back later",
            "remind_at": "2027-01-01T07:00",
        },
    )
    [unchanged] = _notes(jane)
    web.post(
        url,
        {"note_type": "general", "body": "Call back", "remind_at": "2027-02-01T07:00"},
    )
    [moved] = _notes(jane)

    # 07:00 in New York is the stored 12:00 UTC: the same reminder, already sent.
    assert unchanged.reminded_at == sent
    assert moved.remind_at == datetime(2027, 2, 1, 12, tzinfo=UTC)
    assert moved.reminded_at is None


def test_a_private_note_is_invisible_to_everyone_else(cast, login_as, jane):
    secret = _note(jane, cast.sam, "Private thought", is_private=True, is_pinned=True)
    _note(jane, cast.sam, "Shared thought", is_pinned=True)

    for user in (cast.alice, cast.adam, cast.rita):
        web = login_as(user)
        for tab in ("overview", "notes", "timeline"):
            html = web.get(f"/o/alpha/clients/{jane.uuid}/?tab={tab}").content.decode()
            assert "Private thought" not in html, (user, tab)
            assert "Shared thought" in html, (user, tab)
    for user in (cast.alice, cast.adam):  # read-only members get 403 for any note
        response = login_as(user).get(f"/o/alpha/notes/{secret.uuid}/edit/")
        assert response.status_code == 404
    for action in ("pin", "delete"):
        response = login_as(cast.alice).post(f"/o/alpha/notes/{secret.uuid}/{action}/")
        assert response.status_code == 404
    assert len(_notes(jane)) == 2


def test_the_author_sees_their_private_note_everywhere(cast, login_as, jane):
    secret = _note(jane, cast.sam, "Private thought", is_private=True, is_pinned=True)
    web = login_as(cast.sam)

    for tab in ("overview", "notes", "timeline"):
        html = web.get(f"/o/alpha/clients/{jane.uuid}/?tab={tab}").content.decode()
        assert "Private thought" in html, tab
    assert web.get(f"/o/alpha/notes/{secret.uuid}/edit/").status_code == 200


def test_the_author_edits_their_note(cast, login_as, jane):
    note = _note(jane, cast.sam, "First draft")

    response = login_as(cast.sam).post(
        f"/o/alpha/notes/{note.uuid}/edit/",
        {"note_type": "meeting", "body": "Met on Tuesday"},
    )

    assert response.status_code == 302
    [saved] = _notes(jane)
    assert (saved.note_type, saved.body) == ("meeting", "Met on Tuesday")


def test_an_admin_may_change_a_shared_note_but_another_staff_member_may_not(
    cast, login_as, jane, sue
):
    note = _note(jane, cast.sam, "Sam's note")

    denied = login_as(sue).post(
        f"/o/alpha/notes/{note.uuid}/edit/", {"note_type": "general", "body": "Sue"}
    )
    denied_pin = login_as(sue).post(f"/o/alpha/notes/{note.uuid}/pin/")
    allowed = login_as(cast.adam).post(
        f"/o/alpha/notes/{note.uuid}/edit/", {"note_type": "general", "body": "Adam"}
    )

    assert denied.status_code == 403 and denied_pin.status_code == 403
    assert allowed.status_code == 302
    assert _notes(jane)[0].body == "Adam"


def test_the_notes_tab_offers_edit_buttons_only_for_notes_you_may_change(
    cast, login_as, jane, sue
):
    mine = _note(jane, sue, "Sue's note")
    theirs = _note(jane, cast.sam, "Sam's note")

    html = (
        login_as(sue).get(f"/o/alpha/clients/{jane.uuid}/?tab=notes").content.decode()
    )

    assert f"/o/alpha/notes/{mine.uuid}/edit/" in html
    assert f"/o/alpha/notes/{theirs.uuid}/edit/" not in html


def test_pinning_and_unpinning(cast, login_as, jane):
    note = _note(jane, cast.sam, "Remember this")
    web = login_as(cast.sam)

    pinned = web.post(
        f"/o/alpha/notes/{note.uuid}/pin/", {"pinned": "1", "tab": "overview"}
    )
    overview = web.get(pinned.url).content.decode()
    web.post(f"/o/alpha/notes/{note.uuid}/pin/", {"pinned": "0"})

    assert pinned.url == f"/o/alpha/clients/{jane.uuid}/"
    assert "Remember this" in overview.split("<h2>Pinned notes</h2>")[1]
    assert _notes(jane)[0].is_pinned is False


def test_deleting_a_note(cast, login_as, jane):
    note = _note(jane, cast.sam, "Oops")

    response = login_as(cast.sam).post(f"/o/alpha/notes/{note.uuid}/delete/")

    assert response.status_code == 302
    assert response.url == f"/o/alpha/clients/{jane.uuid}/?tab=notes"
    assert _notes(jane) == []


def test_another_firms_note_is_not_found(cast, login_as, make_client):
    note = _note(make_client(cast.beta, "Beta Client"), cast.oscar, "Beta's")

    web = login_as(cast.alice)

    assert web.get(f"/o/alpha/notes/{note.uuid}/edit/").status_code == 404
    assert web.post(f"/o/alpha/notes/{note.uuid}/delete/").status_code == 404
