"""The engagement list across clients: filters, my engagements, keyset pages, speed."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta

import pytest
from django.utils import timezone

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Organization
from clients.engagement_selectors import PAGE_SIZE
from clients.models import Engagement, EngagementStatus, EngagementType

URL = "/o/alpha/engagements/"


def _today():
    """The firm's today (America/New_York): what "overdue" is measured against."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo("America/New_York"))


def _names(response) -> list[str]:
    return [e.name for e in response.context["page"].rows]


def _bulk(client, count: int, **fields) -> None:
    """Many engagements of one client, due one day apart."""
    start = _today() + timedelta(days=10)
    with tenant_context(client.organization):
        Engagement.objects.bulk_create(
            Engagement(
                organization=client.organization,
                client=client,
                name=f"Bulk {i:03d}",
                engagement_type=EngagementType.BOOKKEEPING,
                due_date=start + timedelta(days=i),
                **fields,
            )
            for i in range(count)
        )


def _assigned_only(org: Organization) -> None:
    with platform_bypass():
        Organization.objects.filter(pk=org.pk).update(assigned_clients_only=True)


def test_it_lists_open_engagements_soonest_due_first_and_undated_last(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    today = _today()
    make_engagement(acme, "Later", due_date=today + timedelta(days=20))
    make_engagement(acme, "No date")
    make_engagement(acme, "Soon", due_date=today + timedelta(days=2))
    make_engagement(acme, "Done", status=EngagementStatus.COMPLETED)
    make_engagement(acme, "Dropped", status=EngagementStatus.CANCELLED)

    response = login_as(cast.sam).get(URL)

    assert response.status_code == 200
    assert _names(response) == ["Soon", "Later", "No date"]
    assert b"Acme Corp" in response.content


def test_completed_and_cancelled_engagements_show_under_their_status_or_all(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    make_engagement(acme, "Open one")
    make_engagement(acme, "Done", status=EngagementStatus.COMPLETED)
    make_engagement(acme, "Dropped", status=EngagementStatus.CANCELLED)
    client = login_as(cast.sam)

    assert _names(client.get(URL, {"status": "completed"})) == ["Done"]
    assert set(_names(client.get(URL, {"status": "all"}))) == {
        "Open one",
        "Done",
        "Dropped",
    }


def test_overdue_engagements_are_highlighted_and_can_be_filtered(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    yesterday = _today() - timedelta(days=1)
    make_engagement(acme, "Late", due_date=yesterday)
    make_engagement(acme, "Late but done", due_date=yesterday, status="completed")
    make_engagement(acme, "On time", due_date=_today() + timedelta(days=1))
    client = login_as(cast.sam)

    response = client.get(URL, {"status": "all"})

    overdue = {e.name: bool(e.is_overdue) for e in response.context["page"].rows}
    assert overdue == {"Late": True, "Late but done": False, "On time": False}
    assert response.content.count(b'class="overdue"') == 1
    assert _names(client.get(URL, {"status": "overdue"})) == ["Late"]


def test_a_rows_text_is_escaped_and_shows_the_people(
    cast, login_as, make_client, make_engagement
):
    client = make_client(cast.alpha, "<b>Bold</b> & Co", client_code="B&C")
    make_engagement(
        client,
        '<script>alert("x")</script>',
        due_date=date(2027, 3, 15),
        tax_year=2026,
        priority="urgent",
        partner=cast.alice,
        preparer=cast.sam,
    )

    html = login_as(cast.alice).get(URL).content.decode()
    row = html.split('data-testid="engagement-row"')[1].split("</tr>")[0]

    assert "<script>" not in row and "<b>" not in row
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in row
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in row and ">B&amp;C<" in row
    assert '<span title="2027-03-15">Mar 15, 2027</span>' in row
    assert "<td>2026</td>" in row and ">Urgent</span>" in row
    assert f"<td>{cast.alice}</td><td></td><td>{cast.sam}</td>" in row


def test_it_filters_by_type_status_and_tax_year(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    make_engagement(acme, "2024 return", tax_year=2024)
    make_engagement(acme, "2025 return", tax_year=2025)
    make_engagement(
        acme,
        "Books",
        engagement_type=EngagementType.BOOKKEEPING,
        status=EngagementStatus.IN_PROGRESS,
        tax_year=2025,
    )
    client = login_as(cast.sam)

    assert _names(client.get(URL, {"engagement_type": "bookkeeping"})) == ["Books"]
    assert _names(client.get(URL, {"status": "in_progress"})) == ["Books"]
    assert set(_names(client.get(URL, {"tax_year": "2025"}))) == {
        "2025 return",
        "Books",
    }
    assert _names(
        client.get(URL, {"tax_year": "2025", "engagement_type": "individual_tax"})
    ) == ["2025 return"]


def test_it_filters_by_partner_manager_and_preparer(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    make_engagement(acme, "Alice partners", partner=cast.alice)
    make_engagement(acme, "Adam manages", manager=cast.adam)
    make_engagement(acme, "Sam prepares", preparer=cast.sam, partner=cast.adam)
    client = login_as(cast.alice)

    assert _names(client.get(URL, {"partner": cast.alice.uuid})) == ["Alice partners"]
    assert _names(client.get(URL, {"manager": cast.adam.uuid})) == ["Adam manages"]
    assert _names(client.get(URL, {"preparer": cast.sam.uuid})) == ["Sam prepares"]
    assert _names(
        client.get(URL, {"partner": cast.adam.uuid, "preparer": cast.sam.uuid})
    ) == ["Sam prepares"]


def test_the_people_filters_offer_only_active_members_of_the_firm(
    cast, login_as, make_client
):
    with platform_bypass():
        Membership.objects.filter(user=cast.adam, organization=cast.alpha).update(
            is_active=False
        )

    response = login_as(cast.alice).get(URL, {"partner": cast.adam.uuid})

    form = response.context["form"]
    offered = {value for value, _ in form.fields["partner"].choices}
    assert str(cast.sam.uuid) in offered
    assert str(cast.adam.uuid) not in offered
    assert str(cast.oscar.uuid) not in offered
    # A person who is not offered is reported, and the filter ignored.
    assert "partner" in form.errors
    assert response.context["filters"].partner is None


def test_my_engagements_are_those_where_i_hold_a_role_slot(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp", staff=cast.sam)
    make_engagement(acme, "Sam partners", partner=cast.sam)
    make_engagement(acme, "Sam manages", manager=cast.sam)
    make_engagement(acme, "Sam prepares", preparer=cast.sam)
    make_engagement(acme, "Sam reviews", reviewer=cast.sam)
    make_engagement(acme, "Alice's", preparer=cast.alice)
    make_engagement(acme, "Nobody's")
    client = login_as(cast.sam)

    response = client.get(URL, {"mine": "1"})

    assert set(_names(response)) == {
        "Sam partners",
        "Sam manages",
        "Sam prepares",
        "Sam reviews",
    }
    assert b'class="active" data-testid="my-engagements"' in response.content
    assert len(_names(client.get(URL))) == 6


def test_it_finds_engagements_by_what_their_client_is_found_by(
    cast, login_as, make_client, make_contact, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp", client_code="ACME")
    jones = make_client(cast.alpha, "Pat Jones")
    make_contact(jones, "Lee", "Fisher", email="lee@fisher.test")
    make_engagement(acme, "Acme books")
    make_engagement(jones, "Jones return")
    client = login_as(cast.sam)

    assert _names(client.get(URL, {"q": "acm"})) == ["Acme books"]
    assert _names(client.get(URL, {"q": "fisher"})) == ["Jones return"]
    assert _names(client.get(URL, {"q": "nobody"})) == []


def test_filters_stay_in_the_paging_links_and_the_mine_tab(cast, login_as, make_client):
    acme = make_client(cast.alpha, "Acme Corp")
    _bulk(acme, PAGE_SIZE + 1, tax_year=2025)

    response = login_as(cast.sam).get(
        URL, {"tax_year": "2025", "engagement_type": "bookkeeping", "q": "acme"}
    )

    query = response.context["query"]
    assert "tax_year=2025" in query
    assert "engagement_type=bookkeeping" in query
    assert "q=acme" in query
    assert "cursor" not in query
    assert f'href="?{query.replace("&", "&amp;")}&amp;cursor='.encode() in (
        response.content
    )
    assert "mine=1" in response.context["mine_query"]
    assert "tax_year=2025" in response.context["mine_query"]


def test_keyset_pages_walk_every_engagement_once_forwards_and_back(
    cast, login_as, make_client, make_engagement
):
    acme = make_client(cast.alpha, "Acme Corp")
    _bulk(acme, PAGE_SIZE + 10)
    # Undated engagements come after every dated one, on the last page.
    make_engagement(acme, "Undated A")
    make_engagement(acme, "Undated B")
    client = login_as(cast.sam)

    first = client.get(URL)
    second = client.get(URL, {"cursor": first.context["page"].next_cursor})
    back = client.get(URL, {"cursor": second.context["page"].prev_cursor})

    assert len(_names(first)) == PAGE_SIZE
    assert _names(second)[-2:] == ["Undated A", "Undated B"]
    assert len(_names(second)) == 12
    assert not second.context["page"].has_next
    assert set(_names(first)).isdisjoint(_names(second))
    assert _names(back) == _names(first)
    assert not back.context["page"].has_previous


def test_it_sorts_by_client_name_and_by_creation(
    cast, login_as, make_client, make_engagement
):
    zed = make_client(cast.alpha, "Zed Ltd")
    abe = make_client(cast.alpha, "Abe Inc")
    make_engagement(zed, "First created")
    make_engagement(abe, "Second created")
    client = login_as(cast.sam)

    assert _names(client.get(URL, {"sort": "client"})) == [
        "Second created",
        "First created",
    ]
    assert _names(client.get(URL, {"sort": "newest"})) == [
        "Second created",
        "First created",
    ]
    assert _names(client.get(URL, {"sort": "oldest"})) == [
        "First created",
        "Second created",
    ]


def test_client_sort_pages_through_a_large_list(cast, login_as, make_client):
    for name in ("Beta Co", "Alpha Co"):
        _bulk(make_client(cast.alpha, name), 30)
    client = login_as(cast.sam)

    first = client.get(URL, {"sort": "client"})
    second = client.get(
        URL, {"sort": "client", "cursor": first.context["page"].next_cursor}
    )

    clients = [e.client.display_name for e in first.context["page"].rows]
    assert clients == ["Alpha Co"] * 30 + ["Beta Co"] * 20
    assert [e.client.display_name for e in second.context["page"].rows] == [
        "Beta Co"
    ] * 10


def test_an_htmx_request_gets_only_the_results(
    cast, login_as, make_client, make_engagement
):
    make_engagement(make_client(cast.alpha, "Acme Corp"), "Acme books")

    response = login_as(cast.sam).get(
        URL, {"q": "acme"}, headers={"HX-Request": "true"}
    )

    assert b"Acme books" in response.content
    assert b"<html" not in response.content
    assert b'data-testid="engagement-filters"' not in response.content
    assert "HX-Request" in response["Vary"]


def test_it_shows_an_empty_state(cast, login_as, make_client):
    client = login_as(cast.sam)

    assert b"No open engagements" in client.get(URL).content
    assert b"Nothing matches" in client.get(URL, {"q": "zzz"}).content


def test_the_list_makes_the_same_number_of_queries_for_3_or_40_engagements(
    cast, login_as, make_client, django_assert_num_queries
):
    acme = make_client(cast.alpha, "Acme Corp", staff=cast.sam)
    client = login_as(cast.sam)
    client.get(URL)  # the first request also writes the session
    for count in (3, 37):
        _bulk(acme, count, partner=cast.alice, manager=cast.adam, preparer=cast.sam)
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the active members for the people
        # filters, 6 a page of engagements with their clients and people (the client
        # search is a subquery), 7 reset the RLS context.
        with django_assert_num_queries(7):
            response = client.get(URL, {"q": "acme", "tax_year": ""})
        assert response.status_code == 200
    assert len(response.context["page"].rows) == 40


def test_assigned_only_staff_see_engagements_of_their_clients_or_their_slots(
    cast, login_as, make_client, make_engagement
):
    _assigned_only(cast.alpha)
    mine = make_client(cast.alpha, "Sam's client", staff=cast.sam)
    other = make_client(cast.alpha, "Someone else's", partner=cast.alice)
    make_engagement(mine, "On my client")
    make_engagement(other, "My slot", reviewer=cast.sam)
    hidden = make_engagement(other, "Not mine", preparer=cast.alice)
    client = login_as(cast.sam)

    response = client.get(URL)

    assert set(_names(response)) == {"On my client", "My slot"}
    # The client search cannot reach an unassigned client either.
    assert _names(client.get(URL, {"q": "someone"})) == []
    assert client.get(f"/o/alpha/engagements/{hidden.uuid}/").status_code == 404
    # Managers and above still see every engagement.
    assert len(_names(login_as(cast.alice).get(URL))) == 3


@pytest.mark.parametrize("sort", ["due", "client", "newest", "oldest"])
def test_a_forged_cursor_starts_from_the_first_page(
    cast, login_as, make_client, make_engagement, sort
):
    make_engagement(make_client(cast.alpha, "Acme Corp"), "Acme books")

    response = login_as(cast.sam).get(URL, {"sort": sort, "cursor": "forged"})

    assert _names(response) == ["Acme books"]
