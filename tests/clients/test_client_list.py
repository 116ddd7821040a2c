"""The client list: columns, filters, sorts, keyset pages, empty states, htmx, speed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from clients.models import ClientStatus, EntityType, Tag

URL = "/o/alpha/clients/"


def _names(response) -> list[str]:
    return [c.display_name for c in response.context["page"].rows]


def _tag(org, name: str, color: str = "#be185d") -> Tag:
    with tenant_context(org):
        return Tag.objects.create(organization=org, name=name, color=color)


def _assigned_only(org: Organization) -> None:
    with platform_bypass():
        Organization.objects.filter(pk=org.pk).update(assigned_clients_only=True)


# What a row shows ------------------------------------------------------------------


def test_a_row_shows_the_clients_key_facts(cast, login_as, make_client):
    vip = _tag(cast.alpha, "VIP", color="#be185d")
    client = make_client(
        cast.alpha,
        "Acme Widgets",
        legal_name="Acme Widgets Holdings LLC",
        client_code="ACME",
        entity_type=EntityType.LLC,
        status=ClientStatus.PROSPECT,
        tax_id="12-3456789",
        partner=cast.alice,
        manager=cast.adam,
        staff=cast.sam,
        tags=[vip],
    )

    html = login_as(cast.sam).get(URL).content.decode()

    assert f'href="/o/alpha/clients/{client.uuid}/"' in html
    assert "Acme Widgets Holdings LLC" in html
    assert ">ACME<" in html
    assert "LLC" in html
    assert 'class="badge badge-status-prospect">Prospect<' in html
    assert "Alice Owner" in html and "Adam Admin" in html and "Sam Staff" in html
    assert 'fill="#be185d"' in html and "VIP</span>" in html
    assert "•••-••-6789" in html
    assert "3456789" not in html


def test_a_rows_text_is_escaped(cast, login_as, make_client):
    tag = _tag(cast.alpha, "<i>Hot</i>")
    make_client(
        cast.alpha,
        '<b>Bold</b> & "Co"',
        legal_name="<script>alert(1)</script>",
        client_code="B&C",
        tags=[tag],
    )

    html = login_as(cast.alice).get(URL).content.decode()
    rows = html.split('data-testid="client-rows"')[1]

    assert "<b>Bold</b>" not in rows and "<script>" not in rows and "<i>" not in rows
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;Co&quot;" in rows
    assert 'aria-label="Select &lt;b&gt;Bold&lt;/b&gt; &amp; &quot;Co&quot;"' in rows
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rows
    assert ">B&amp;C<" in rows and "&lt;i&gt;Hot&lt;/i&gt;</span>" in rows


def test_a_team_members_name_is_escaped_in_the_row(cast, login_as, make_client):
    # Members name themselves: the team cell is as careful as the client's own.
    cast.adam.name = '"><script>partner()</script>'
    cast.adam.save(update_fields=["name"])
    make_client(cast.alpha, "Plain Co", partner=cast.adam, staff=cast.adam)

    html = login_as(cast.alice).get(URL).content.decode()
    rows = html.split('data-testid="client-rows"')[1]

    assert "<script>partner()" not in rows
    assert rows.count("&quot;&gt;&lt;script&gt;partner()&lt;/script&gt;") == 2


def test_the_page_works_without_javascript(cast, login_as, make_client):
    make_client(cast.alpha, "Acme Widgets")

    html = login_as(cast.alice).get(URL).content.decode()

    # A plain GET form for the filters, real links for the pages, a real POST
    # form with checkboxes for the bulk actions.
    assert '<form method="get" action="/o/alpha/clients/"' in html
    assert 'name="q"' in html
    assert '<form method="post" action="/o/alpha/clients/bulk/"' in html
    assert 'type="checkbox" name="clients"' in html
    assert "<html" in html


def test_a_read_only_member_sees_no_bulk_actions_or_add_button(
    cast, login_as, make_client
):
    make_client(cast.alpha, "Acme Widgets")

    html = login_as(cast.rita).get(URL).content.decode()

    assert "Acme Widgets" in html
    assert "/o/alpha/clients/bulk/" not in html
    assert "/o/alpha/clients/new/" not in html
    assert 'name="clients"' not in html


# Filters --------------------------------------------------------------------------


def test_archived_clients_are_hidden_unless_asked_for(cast, login_as, make_client):
    make_client(cast.alpha, "Active Co", status=ClientStatus.ACTIVE)
    make_client(cast.alpha, "Old Co", status=ClientStatus.ARCHIVED)
    client = login_as(cast.alice)

    assert _names(client.get(URL)) == ["Active Co"]
    assert _names(client.get(URL, {"status": "archived"})) == ["Old Co"]
    assert _names(client.get(URL, {"status": "all"})) == ["Active Co", "Old Co"]


def test_it_filters_by_status_and_entity_type(cast, login_as, make_client):
    make_client(cast.alpha, "Ann Person")
    make_client(cast.alpha, "Beta LLC", entity_type=EntityType.LLC)
    make_client(
        cast.alpha,
        "Gamma LLC",
        entity_type=EntityType.LLC,
        status=ClientStatus.PROSPECT,
    )
    client = login_as(cast.alice)

    assert _names(client.get(URL, {"entity_type": "llc"})) == ["Beta LLC", "Gamma LLC"]
    assert _names(client.get(URL, {"status": "prospect"})) == ["Gamma LLC"]
    assert _names(client.get(URL, {"status": "active", "entity_type": "llc"})) == [
        "Beta LLC"
    ]


def test_it_filters_by_assigned_person_and_by_me(cast, login_as, make_client):
    make_client(cast.alpha, "Partnered", partner=cast.adam)
    make_client(cast.alpha, "Managed", manager=cast.sam)
    make_client(cast.alpha, "Staffed", staff=cast.sam)
    make_client(cast.alpha, "Nobody's")
    client = login_as(cast.sam)

    assert _names(client.get(URL, {"assigned": "me"})) == ["Managed", "Staffed"]
    assert _names(client.get(URL, {"assigned": str(cast.adam.uuid)})) == ["Partnered"]
    # Someone from another firm, or nonsense, matches nobody.
    assert _names(client.get(URL, {"assigned": str(cast.oscar.uuid)})) == []
    assert _names(client.get(URL, {"assigned": "nonsense"})) == []


def test_it_filters_by_tag(cast, login_as, make_client):
    vip = _tag(cast.alpha, "VIP")
    make_client(cast.alpha, "Tagged", tags=[vip])
    make_client(cast.alpha, "Plain")

    response = login_as(cast.alice).get(URL, {"tag": str(vip.uuid)})

    assert _names(response) == ["Tagged"]


def test_the_filter_choices_are_this_firms_members_and_tags(cast, login_as):
    _tag(cast.alpha, "Alpha tag")
    _tag(cast.beta, "Beta tag")

    html = login_as(cast.alice).get(URL).content.decode()

    assert "Alpha tag" in html and "Beta tag" not in html
    assert str(cast.sam.uuid) in html and str(cast.oscar.uuid) not in html


# Sorting and pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Apple", "banana", "Cherry"]),
        ("-name", ["Cherry", "banana", "Apple"]),
        ("newest", ["Apple", "Cherry", "banana"]),
        ("oldest", ["banana", "Cherry", "Apple"]),
        ("code", ["banana", "Apple", "Cherry"]),
        ("bogus", ["Apple", "banana", "Cherry"]),
    ],
)
def test_it_sorts(cast, login_as, make_client, sort, expected):
    make_client(cast.alpha, "banana", client_code="A1")
    make_client(cast.alpha, "Cherry", client_code="C1")
    make_client(cast.alpha, "Apple", client_code="B1")

    response = login_as(cast.alice).get(URL, {"sort": sort})

    assert _names(response) == expected


@pytest.mark.parametrize("sort", ["name", "-name", "newest", "code"])
def test_next_and_previous_pages_lose_and_repeat_no_row(
    cast, login_as, make_clients, sort
):
    make_clients(cast.alpha, 120)
    client = login_as(cast.alice)

    forward = [client.get(URL, {"sort": sort, "q": "client"})]
    while forward[-1].context["next_url"]:
        forward.append(client.get(forward[-1].context["next_url"]))
    backward = [forward[-1]]
    while backward[-1].context["prev_url"]:
        backward.append(client.get(backward[-1].context["prev_url"]))

    sizes = [len(r.context["page"].rows) for r in forward]
    assert sizes == [50, 50, 20]
    seen = [name for r in forward for name in _names(r)]
    assert len(seen) == len(set(seen)) == 120
    assert [_names(r) for r in reversed(backward)] == [_names(r) for r in forward]
    # The links keep the filters and the sort.
    query = parse_qs(urlparse(forward[0].context["next_url"]).query)
    assert query["sort"] == [sort] and query["q"] == ["client"]
    assert "cursor" in query


def test_a_forged_cursor_shows_the_first_page(cast, login_as, make_client):
    make_client(cast.alpha, "Acme")

    response = login_as(cast.alice).get(URL, {"cursor": "forged"})

    assert _names(response) == ["Acme"]


def test_the_links_and_forms_keep_the_filters(cast, login_as, make_clients):
    make_clients(cast.alpha, 60, entity_type=EntityType.LLC)

    response = login_as(cast.alice).get(
        URL, {"entity_type": "llc", "sort": "-name", "q": "client", "page": "junk"}
    )
    html = response.content.decode()

    assert (
        "/o/alpha/clients/export.csv?q=client&amp;entity_type=llc&amp;sort=-name"
        in (html)
    )
    next_query = parse_qs(urlparse(response.context["next_url"]).query)
    assert next_query["entity_type"] == ["llc"] and next_query["sort"] == ["-name"]
    assert 'name="next" value="q=client&amp;entity_type=llc&amp;sort=-name"' in html
    assert 'value="llc" selected' in html


# Empty states ---------------------------------------------------------------------


def test_a_firm_without_clients_is_invited_to_add_or_import(cast, login_as):
    response = login_as(cast.alice).get(URL)
    html = response.content.decode()

    assert "No clients yet" in html
    assert 'href="/o/alpha/clients/new/"' in html
    assert 'href="/o/alpha/clients/import/"' in html
    assert "Nothing matches" not in html


def test_filters_that_match_nothing_offer_to_clear_them(cast, login_as, make_client):
    make_client(cast.alpha, "Acme")

    html = login_as(cast.alice).get(URL, {"entity_type": "trust_estate"}).content
    html = html.decode()

    assert "Nothing matches" in html and "No clients yet" not in html
    assert '<a class="btn" href="/o/alpha/clients/">Clear filters</a>' in html


# htmx -------------------------------------------------------------------------------


def test_htmx_gets_only_the_results(cast, login_as, make_client):
    make_client(cast.alpha, "Acme")

    response = login_as(cast.alice).get(
        URL, {"q": "acme"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()

    assert html.lstrip().startswith('<div id="client-results"')
    assert "Acme" in html and "<html" not in html and 'role="search"' not in html
    assert "HX-Request" in response["Vary"]


def test_an_htmx_history_restore_gets_the_whole_page(cast, login_as, make_client):
    make_client(cast.alpha, "Acme")

    response = login_as(cast.alice).get(
        URL,
        {"q": "acme"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert "<html" in response.content.decode()


def test_the_filter_form_and_page_links_swap_the_results_table(
    cast, login_as, make_clients
):
    make_clients(cast.alpha, 60)

    html = login_as(cast.alice).get(URL).content.decode()

    assert 'hx-target="#client-results"' in html and 'hx-push-url="true"' in html
    assert 'rel="next" href="/o/alpha/clients/?cursor=' in html
    assert 'hx-get="/o/alpha/clients/?cursor=' in html


# Who sees what ----------------------------------------------------------------------


def test_with_assigned_only_staff_see_only_their_clients(cast, login_as, make_client):
    _assigned_only(cast.alpha)
    make_client(cast.alpha, "Sam's partner client", partner=cast.sam)
    make_client(cast.alpha, "Sam's staff client", staff=cast.sam)
    make_client(cast.alpha, "Adam's client", manager=cast.adam)
    make_client(cast.alpha, "Nobody's client")

    sam_sees = _names(login_as(cast.sam).get(URL))
    adam_sees = _names(login_as(cast.adam).get(URL))

    assert sam_sees == ["Sam's partner client", "Sam's staff client"]
    assert adam_sees == [
        "Adam's client",
        "Nobody's client",
        "Sam's partner client",
        "Sam's staff client",
    ]


def test_another_firms_clients_never_show(cast, login_as, make_client):
    make_client(cast.beta, "Beta's secret client")
    make_client(cast.alpha, "Alpha client")

    html = login_as(cast.alice).get(URL, {"status": "all"}).content.decode()

    assert "Alpha client" in html and "Beta's secret client" not in html


# Speed ------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"q": "client"}, {"assigned": "me"}])
def test_the_query_count_does_not_grow_with_clients(
    cast, login_as, make_clients, django_assert_num_queries, params
):
    vip = _tag(cast.alpha, "VIP")
    client = login_as(cast.alice)
    client.get(URL)  # settles the session's first-visit writes
    for extra in (5, 55):
        clients = make_clients(
            cast.alpha,
            extra,
            prefix=f"Client {extra}",
            partner=cast.alice,
            manager=cast.adam,
            staff=cast.sam,
        )
        with tenant_context(cast.alpha):
            vip.clients.add(*clients, through_defaults={"organization": cast.alpha})
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 a page of clients with
        # partner/manager/staff (filters are subqueries), 6 their tags, 7 active members
        # (filter and bulk choices), 8 the firm's tags, 9 reset the RLS context. A
        # one-word search first reads its page from the search tokens (+1), then the
        # page's clients by primary key.
        with django_assert_num_queries(10 if "q" in params else 9):
            response = client.get(URL, params)
        assert response.status_code == 200
    assert len(response.context["page"].rows) == 50
