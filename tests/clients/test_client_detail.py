"""The client page: header, tabs (whole page or htmx panel), related clients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from clients.models import (
    ClientRelationship,
    ClientStatus,
    EngagementStatus,
    Note,
    RelationshipKind,
    Tag,
)
from clients.services.clients import client_update

TABS = ["overview", "contacts", "engagements", "notes", "timeline"]


def _url(client, tab: str | None = None) -> str:
    url = f"/o/{client.organization.slug}/clients/{client.uuid}/"
    return f"{url}?tab={tab}" if tab else url


def _assigned_only(org: Organization) -> None:
    org.assigned_clients_only = True
    org.save(update_fields=["assigned_clients_only"])


def _note(client, author, body="A note", **fields) -> Note:
    with tenant_context(client.organization):
        return Note.objects.create(
            organization=client.organization,
            client=client,
            author=author,
            body=body,
            **fields,
        )


@pytest.fixture
def jane(cast, jane):
    """The shared Jane, with every fact the page's header shows."""
    with tenant_context(cast.alpha):
        vip = Tag.objects.create(organization=cast.alpha, name="VIP")
        return client_update(
            client=jane,
            data={
                "legal_name": "Jane Q. Doe",
                "tax_id": "123-45-6789",
                "manager": cast.adam,
                "risk_level": "high",
                "fiscal_year_end_month": 6,
                "fiscal_year_end_day": 30,
                "city": "Springfield",
            },
            tags=[vip],
        )


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_renders_the_whole_page_with_the_header(cast, login_as, jane, tab):
    response = login_as(cast.alice).get(_url(jane, tab))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert f'data-testid="tab-{tab}"' in html
    assert 'aria-current="page">' + tab.capitalize() in html
    header = html.split('data-testid="client-facts"')[1].split("</dl>")[0]
    for fact in ("•••-••-6789", "06/30", "High", "Alice Owner", "Adam Admin"):
        assert fact in header
    assert "Sam Staff" in header and "VIP" in header


def test_the_tax_id_appears_only_masked(cast, login_as, jane):
    html = login_as(cast.alice).get(_url(jane)).content.decode()

    assert "123-45-6789" not in html
    assert "123456789" not in html
    assert "•••-••-6789" in html


@pytest.mark.parametrize("tab", TABS)
def test_an_htmx_tab_switch_returns_only_the_tabs(cast, login_as, jane, tab):
    response = login_as(cast.alice).get(_url(jane, tab), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="client-facts"' not in html
    assert f'data-testid="tab-{tab}"' in html
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_whole_page(cast, login_as, jane):
    response = login_as(cast.alice).get(
        _url(jane, "notes"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )

    assert "<html" in response.content.decode()


def test_the_tab_links_work_with_and_without_javascript(cast, login_as, jane):
    html = login_as(cast.alice).get(_url(jane)).content.decode()

    link = f"/o/alpha/clients/{jane.uuid}/?tab=contacts"
    assert (
        f'href="{link}" hx-get="{link}" hx-target="#client-tabs" hx-push-url="true"'
        in html
    )


def test_an_unknown_tab_shows_the_overview(cast, login_as, jane):
    response = login_as(cast.alice).get(_url(jane, "secrets"))

    assert 'data-testid="tab-overview"' in response.content.decode()


def test_the_header_links_to_edit_archive_and_new_engagement(cast, login_as, jane):
    html = login_as(cast.sam).get(_url(jane)).content.decode()

    assert f"/o/alpha/clients/{jane.uuid}/edit/" in html
    assert f"/o/alpha/clients/{jane.uuid}/archive/" in html
    assert f"/o/alpha/clients/{jane.uuid}/engagements/new/" in html


def test_an_archived_client_offers_restore(cast, login_as, make_client):
    gone = make_client(cast.alpha, "Old Client", status=ClientStatus.ARCHIVED)

    html = login_as(cast.alice).get(_url(gone)).content.decode()

    assert f"/o/alpha/clients/{gone.uuid}/restore/" in html
    assert f"/o/alpha/clients/{gone.uuid}/archive/" not in html


def test_a_read_only_member_sees_the_page_without_actions(cast, login_as, jane):
    response = login_as(cast.rita).get(_url(jane))

    assert response.status_code == 200
    html = response.content.decode()
    assert "/edit/" not in html
    assert "relationships/new/" not in html


def test_the_engagements_tab_lists_the_clients_engagements(
    cast, login_as, jane, make_client, make_engagement
):
    ours = make_engagement(jane, "2025 Form 1040", tax_year=2025, partner=cast.alice)
    other = make_engagement(make_client(cast.alpha, "Someone Else"), "Not theirs")

    html = login_as(cast.alice).get(_url(jane, "engagements")).content.decode()

    assert f'href="/o/alpha/engagements/{ours.uuid}/">2025 Form 1040</a>' in html
    assert "Individual tax return" in html and "2025" in html
    assert other.name not in html


def test_the_overview_lists_open_engagements_soonest_first(
    cast, login_as, jane, make_engagement
):
    today = timezone.localdate()
    make_engagement(jane, "Later", due_date=today + timedelta(days=60))
    make_engagement(jane, "Sooner", due_date=today + timedelta(days=5))
    make_engagement(
        jane, "Done already", due_date=today, status=EngagementStatus.COMPLETED
    )

    html = login_as(cast.alice).get(_url(jane)).content.decode()

    upcoming = html.split('data-testid="upcoming-engagements"')[1].split("</ul>")[0]
    assert upcoming.index("Sooner") < upcoming.index("Later")
    assert "Done already" not in upcoming


def test_the_overview_shows_pinned_notes_only(cast, login_as, jane):
    _note(jane, cast.alice, "Pinned: prefers phone calls", is_pinned=True)
    _note(jane, cast.alice, "Just a note")

    html = login_as(cast.alice).get(_url(jane)).content.decode()

    pinned = html.split("<h2>Pinned notes</h2>")[1].split("<h2>")[0]
    assert "prefers phone calls" in pinned
    assert "Just a note" not in pinned


# Query counts ---------------------------------------------------------------------


def _fill(client, numbers: range, cast, make_contact, make_engagement) -> None:
    for i in numbers:
        make_contact(client, f"Person{i}", "Doe", email=f"p{i}-{client.pk}@x.test")
        engagement = make_engagement(
            client, f"Engagement {i}", due_date=timezone.localdate(), tax_year=2025
        )
        _note(
            client,
            cast.alice,
            f"Note {i}",
            engagement=engagement,
            is_pinned=bool(i % 2),
        )


# Every tab: 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the
# member's firms (the membership and the switcher), 5 the client with its
# assignees, 6 its tags (header), then the tab's own queries and the RLS
# context reset.
TAB_QUERIES = {
    # related clients, pinned notes with authors, the next engagements due (the
    # recent activity comes in a request of its own)
    "overview": 6 + 3 + 1,
    # links with their contacts, the contacts' other clients (one prefetch)
    "contacts": 6 + 2 + 1,
    # engagements with their partners
    "engagements": 6 + 1 + 1,
    # notes with authors and engagements, the new-note form's engagement choices
    "notes": 6 + 2 + 1,
    # the timeline's ten sources (notes, engagements, client changes, documents,
    # document requests, work, portal activity, portal messages, invoices issued,
    # payments received)
    "timeline": 6 + 10 + 1,
}


@pytest.mark.parametrize("tab", TABS)
def test_the_query_count_does_not_grow_with_rows(
    cast,
    login_as,
    jane,
    make_client,
    make_contact,
    make_engagement,
    django_assert_num_queries,
    tab,
):
    web = login_as(cast.alice)
    web.get(_url(jane))  # the first request also writes the session
    other = make_client(cast.alpha, "John Doe", client_code="DOE-JOHN")
    with tenant_context(cast.alpha):
        ClientRelationship.objects.create(
            organization=cast.alpha, from_client=jane, to_client=other, kind="spouse"
        )
    for numbers in (range(2), range(2, 20)):  # 2 rows of each, then 20
        _fill(jane, numbers, cast, make_contact, make_engagement)
        with django_assert_num_queries(TAB_QUERIES[tab]):
            response = web.get(_url(jane, tab))
        assert response.status_code == 200
        # An htmx tab switch skips the header's tags.
        with django_assert_num_queries(TAB_QUERIES[tab] - 1):
            response = web.get(_url(jane, tab), HTTP_HX_REQUEST="true")
        assert response.status_code == 200
    if tab == "contacts":
        assert len(response.context["links"]) == 20
    if tab == "engagements":
        assert len(response.context["engagements"]) == 20


def test_the_recent_activity_costs_the_same_queries_for_few_or_many_rows(
    cast, login_as, jane, make_contact, make_engagement, django_assert_num_queries
):
    web = login_as(cast.alice)
    url = f"{_url(jane)}activity/"
    web.get(url)  # the first request also writes the session
    for numbers in (range(2), range(2, 20)):
        _fill(jane, numbers, cast, make_contact, make_engagement)
        # The frame (session, user, firm, the member's firms), the client, the
        # timeline's ten sources, the RLS context reset.
        with django_assert_num_queries(4 + 1 + 10 + 1):
            response = web.get(url)
        assert response.status_code == 200
        assert response.content.decode().count('class="timeline-item"') == 5


# Who sees the page -----------------------------------------------------------------


def test_another_firms_member_gets_404(cast, login_as, jane):
    assert login_as(cast.oscar).get(_url(jane)).status_code == 404
    # Beta's owner asking through Beta's own address does not find it either.
    response = login_as(cast.oscar).get(f"/o/beta/clients/{jane.uuid}/")
    assert response.status_code == 404


def test_with_assigned_only_staff_see_only_their_clients(
    cast, login_as, jane, make_client, make_contact
):
    _assigned_only(cast.alpha)
    stranger = make_client(cast.alpha, "Not Sams", partner=cast.alice)
    contact = make_contact(stranger, "Hidden", "Person", email="hidden@x.test")
    note = _note(stranger, cast.alice, "Shared note")
    web = login_as(cast.sam)

    assert web.get(_url(jane)).status_code == 200  # sam is jane's staff
    base = f"/o/alpha/clients/{stranger.uuid}"
    for url in (
        f"{base}/",
        f"{base}/?tab=contacts",
        f"{base}/contacts/new/",
        f"{base}/notes/new/",
        f"/o/alpha/contacts/{contact.uuid}/edit/",
        f"/o/alpha/notes/{note.uuid}/edit/",
    ):
        assert web.get(url).status_code == 404, url
    for url in (
        f"{base}/contacts/link/",
        f"{base}/relationships/new/",
        f"/o/alpha/notes/{note.uuid}/pin/",
        f"/o/alpha/notes/{note.uuid}/delete/",
    ):
        assert web.post(url).status_code == 404, url
    # A manager or above still sees every client.
    assert login_as(cast.adam).get(f"{base}/").status_code == 200


def test_without_assigned_only_staff_see_every_client(cast, login_as, make_client):
    stranger = make_client(cast.alpha, "Not Sams", partner=cast.alice)

    assert login_as(cast.sam).get(_url(stranger)).status_code == 200


# Related clients -------------------------------------------------------------------


def _relate(web, client, code, kind=RelationshipKind.SPOUSE):
    return web.post(
        f"/o/alpha/clients/{client.uuid}/relationships/new/",
        {"kind": kind, "client_code": code},
        follow=True,
    )


def test_a_relationship_shows_on_both_clients(cast, login_as, make_client):
    parent = make_client(cast.alpha, "Acme Holdings", entity_type="c_corp")
    child = make_client(cast.alpha, "Acme Widgets", entity_type="llc")
    web = login_as(cast.sam)

    response = _relate(web, parent, child.client_code.lower(), "parent_company")

    assert "Acme Holdings is now linked to Acme Widgets." in response.content.decode()
    parent_html = web.get(_url(parent)).content.decode()
    child_html = web.get(_url(child)).content.decode()
    assert "Parent company of</td>" in parent_html and "Acme Widgets" in parent_html
    assert "Subsidiary of</td>" in child_html and "Acme Holdings" in child_html


def test_a_relationship_needs_a_known_code_and_is_not_doubled(
    cast, login_as, jane, make_client
):
    john = make_client(cast.alpha, "John Doe", client_code="DOE-JOHN")
    web = login_as(cast.sam)

    unknown = _relate(web, jane, "NOPE").content.decode()
    _relate(web, jane, "DOE-JOHN")
    # A spouse link read from the other end is the same link.
    again = _relate(web, john, jane.client_code).content.decode()

    assert "No client with the code NOPE." in unknown
    assert "are already linked so." in again
    with tenant_context(cast.alpha):
        assert ClientRelationship.objects.count() == 1


def test_a_client_of_another_firm_cannot_be_related(cast, login_as, jane, make_client):
    make_client(cast.beta, "Beta Person", client_code="BETA-P")

    response = _relate(login_as(cast.alice), jane, "BETA-P")

    assert "No client with the code BETA-P." in response.content.decode()
    with tenant_context(cast.alpha):
        assert not ClientRelationship.objects.exists()


def test_a_relationship_can_be_removed_from_either_end(
    cast, login_as, jane, make_client
):
    john = make_client(cast.alpha, "John Doe", client_code="DOE-JOHN")
    with tenant_context(cast.alpha):
        link = ClientRelationship.objects.create(
            organization=cast.alpha, from_client=jane, to_client=john, kind="spouse"
        )

    response = login_as(cast.sam).post(
        f"/o/alpha/relationships/{link.uuid}/delete/", {"client": str(john.uuid)}
    )

    assert response.status_code == 302
    assert response.url == f"/o/alpha/clients/{john.uuid}/"
    with tenant_context(cast.alpha):
        assert not ClientRelationship.objects.exists()


def test_with_assigned_only_a_link_to_a_hidden_client_is_not_shown(
    cast, login_as, jane, make_client
):
    _assigned_only(cast.alpha)
    hidden = make_client(cast.alpha, "Secret Holdings", partner=cast.alice)
    with tenant_context(cast.alpha):
        link = ClientRelationship.objects.create(
            organization=cast.alpha, from_client=hidden, to_client=jane, kind="owner"
        )
    web = login_as(cast.sam)

    assert "Secret Holdings" not in web.get(_url(jane)).content.decode()
    response = web.post(f"/o/alpha/relationships/{link.uuid}/delete/")
    assert response.status_code == 404
