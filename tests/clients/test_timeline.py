"""The timeline tab: notes, engagements and client changes, newest first, per kind."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from clients.models import Note
from clients.services.clients import client_update
from clients.timeline import TimelineItem, _sources, register_timeline_source


def _timeline(web, client) -> str:
    html = web.get(f"/o/alpha/clients/{client.uuid}/?tab=timeline").content.decode()
    return html.split('data-testid="timeline"')[1]


def _note(client, author, body, minutes_ago: int, **fields) -> Note:
    with tenant_context(client.organization):
        return Note.objects.create(
            organization=client.organization,
            client=client,
            author=author,
            body=body,
            created_at=timezone.now() - timedelta(minutes=minutes_ago),
            **fields,
        )


def test_the_timeline_merges_every_kind_newest_first(
    cast, login_as, jane, make_engagement
):
    _note(jane, cast.alice, "An old call", minutes_ago=30, note_type="call")
    make_engagement(jane, "2025 return")
    with tenant_context(cast.alpha):
        client_update(client=jane, data={"phone": "555-0100"})
    _note(jane, cast.alice, "The newest note", minutes_ago=-1)

    html = _timeline(login_as(cast.alice), jane)

    order = [
        html.index("The newest note"),
        html.index("Client updated"),
        html.index("Engagement opened: 2025 return"),
        html.index("Client created"),
        html.index("An old call"),
    ]
    assert order == sorted(order)
    assert "Changed: phone" in html
    for kind in ("note", "engagement", "change"):
        assert f'class="timeline-icon timeline-{kind}"' in html


def test_the_timeline_hides_other_peoples_private_notes(cast, login_as, jane):
    _note(jane, cast.sam, "Private from Sam", minutes_ago=1, is_private=True)
    _note(jane, cast.sam, "Shared by Sam", minutes_ago=2)

    alices = _timeline(login_as(cast.alice), jane)
    sams = _timeline(login_as(cast.sam), jane)

    assert "Private from Sam" not in alices and "Shared by Sam" in alices
    assert "Private from Sam" in sams


def test_another_app_adds_items_through_the_registration_point(cast, login_as, jane):
    def invoices(client, *, viewer, limit):
        yield TimelineItem(
            when=timezone.now() + timedelta(minutes=5),
            kind="invoice",
            title=f"Invoice sent to {client}",
        )

    register_timeline_source(invoices)
    try:
        html = _timeline(login_as(cast.alice), jane)
    finally:
        _sources.remove(invoices)

    assert "Invoice sent to Jane Doe" in html
    assert 'class="timeline-icon timeline-invoice"' in html
    assert html.index("Invoice sent") < html.index("Client created")


def test_the_overview_shows_the_latest_five_items(cast, login_as, jane):
    for i in range(7):
        _note(jane, cast.alice, f"Note number {i}", minutes_ago=10 - i)

    web = login_as(cast.alice)
    page = web.get(f"/o/alpha/clients/{jane.uuid}/").content.decode()
    # The overview asks for its recent activity once it is shown (htmx).
    activity_url = f"/o/alpha/clients/{jane.uuid}/activity/"
    assert f'hx-get="{activity_url}" hx-trigger="load"' in page

    recent = web.get(activity_url).content.decode()
    assert recent.count('class="timeline-item"') == 5
    assert "Note number 6" in recent and "Note number 1" not in recent
