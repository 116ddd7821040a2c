"""The list's search box: every kind of token, the assigned-only setting, "Did you mean"."""

from __future__ import annotations

import pytest

from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from clients.models import ClientStatus

URL = "/o/alpha/clients/"


def _names(response) -> list[str]:
    return [c.display_name for c in response.context["page"].rows]


def _suggested(response) -> list[str]:
    return [c.display_name for c in response.context["suggestions"]]


@pytest.fixture
def firm(cast, make_client, make_contact):
    smith = make_client(
        cast.alpha,
        "John Smith",
        client_code="SMITH-J",
        tax_id="123-45-6789",
        email="john@smith.test",
        staff=cast.sam,
    )
    make_contact(smith, "Maria", "Gonzalez", email="maria.g@bookkeepers.test")
    acme = make_client(
        cast.alpha, "Acme Widgets", legal_name="Acme Holdings LLC", client_code="ACME"
    )
    make_contact(acme, "Peter", "Jones", email="pj@acme-mail.test")
    make_client(cast.alpha, "José Müller", tax_id="987-65-4321", partner=cast.adam)
    return cast


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("john", ["John Smith"]),  # first word of the name
        ("smi", ["John Smith"]),  # a prefix of a later word
        ("JOHN smith", ["John Smith"]),  # every word must match, in any case
        ("holdings", ["Acme Widgets"]),  # the legal name
        ("smith-j", ["John Smith"]),  # the client code, whole
        ("acme", ["Acme Widgets"]),
        ("gonzalez", ["John Smith"]),  # a contact's last name
        ("maria", ["John Smith"]),  # a contact's first name
        ("maria.g@bookkeepers.test", ["John Smith"]),  # a contact's email
        ("pj@acme", ["Acme Widgets"]),  # the start of a contact's email
        ("john@smith.test", ["John Smith"]),  # the client's own email
        ("6789", ["John Smith"]),  # last four of the tax id
        ("muller", ["José Müller"]),  # accents fold
        ("josé", ["José Müller"]),
        ("john acme", []),  # words match the same client
    ],
)
def test_it_finds_clients_by_each_kind_of_token(firm, login_as, query, expected):
    response = login_as(firm.alice).get(URL, {"q": query})

    assert _names(response) == expected


def test_the_middle_digits_of_a_tax_id_find_nothing(firm, login_as):
    assert _names(login_as(firm.alice).get(URL, {"q": "45-6789"})) == []
    assert _names(login_as(firm.alice).get(URL, {"q": "12345"})) == []


def test_a_renamed_client_is_found_by_its_new_name(firm, login_as):
    client = login_as(firm.alice)
    smith = client.get(URL, {"q": "john"}).context["page"].rows[0]

    client.post(
        f"/o/alpha/clients/{smith.uuid}/edit/",
        {
            "display_name": "Jonathan Smithers",
            "client_code": "SMITH-J",
            "entity_type": "individual",
            "status": "active",
            "risk_level": "low",
            "fiscal_year_end_month": "12",
            "fiscal_year_end_day": "31",
            "country": "US",
        },
    )

    assert _names(client.get(URL, {"q": "jonathan"})) == ["Jonathan Smithers"]
    assert _names(client.get(URL, {"q": "john"})) == []


def test_archived_clients_are_found_only_with_the_archived_filter(
    firm, login_as, make_client
):
    make_client(firm.alpha, "Archie Old", status=ClientStatus.ARCHIVED)
    client = login_as(firm.alice)

    assert _names(client.get(URL, {"q": "archie"})) == []
    assert _names(client.get(URL, {"q": "archie", "status": "all"})) == ["Archie Old"]


def test_search_combines_with_the_filters(firm, login_as):
    client = login_as(firm.alice)

    assert _names(client.get(URL, {"q": "john", "assigned": str(firm.sam.uuid)})) == [
        "John Smith"
    ]
    assert _names(client.get(URL, {"q": "john", "entity_type": "llc"})) == []


def test_search_never_finds_another_firms_clients(firm, login_as, make_client):
    make_client(firm.beta, "John Beta", tax_id="111-22-6789")

    response = login_as(firm.alice).get(URL, {"q": "6789"})

    assert _names(response) == ["John Smith"]


def test_with_assigned_only_search_finds_only_the_members_clients(firm, login_as):
    with platform_bypass():
        Organization.objects.filter(pk=firm.alpha.pk).update(assigned_clients_only=True)

    sam = login_as(firm.sam)
    assert _names(sam.get(URL, {"q": "john"})) == ["John Smith"]
    assert _names(sam.get(URL, {"q": "acme"})) == []
    assert _names(sam.get(URL, {"q": "4321"})) == []
    adam = login_as(firm.adam)
    assert _names(adam.get(URL, {"q": "acme"})) == ["Acme Widgets"]
    assert _names(adam.get(URL, {"q": "4321"})) == ["José Müller"]


# Did you mean ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("jonh smith", "John Smith"),
        ("smtih", "John Smith"),
        ("acme widgest", "Acme Widgets"),
    ],
)
def test_a_search_with_a_typo_suggests_close_names(firm, login_as, typo, meant):
    response = login_as(firm.alice).get(URL, {"q": typo})
    html = response.content.decode()

    assert _names(response) == []
    assert _suggested(response)[0] == meant
    assert "Did you mean" in html and meant in html


def test_suggestions_appear_only_when_the_search_finds_nothing(firm, login_as):
    response = login_as(firm.alice).get(URL, {"q": "john"})

    assert _names(response) == ["John Smith"]
    assert response.context["suggestions"] == []
    assert "Did you mean" not in response.content.decode()


def test_short_or_unlike_searches_suggest_nothing(firm, login_as):
    client = login_as(firm.alice)

    assert _suggested(client.get(URL, {"q": "jx"})) == []
    assert _suggested(client.get(URL, {"q": "zzzzqqq"})) == []


def test_suggestions_are_at_most_five(cast, login_as, make_clients):
    make_clients(cast.alpha, 8, prefix="Harrison")

    response = login_as(cast.alice).get(URL, {"q": "harrisson"})

    assert len(_suggested(response)) == 5


def test_suggestions_respect_assigned_only_and_the_firm(firm, login_as, make_client):
    make_client(firm.beta, "Acme Widgets Beta")
    with platform_bypass():
        Organization.objects.filter(pk=firm.alpha.pk).update(assigned_clients_only=True)

    sam = login_as(firm.sam)
    assert _suggested(sam.get(URL, {"q": "acme widgest"})) == []
    assert _suggested(sam.get(URL, {"q": "jonh smith"})) == ["John Smith"]
    adam = login_as(firm.adam)
    assert _suggested(adam.get(URL, {"q": "acme widgest"})) == ["Acme Widgets"]


def test_the_query_count_with_a_search_does_not_grow(
    cast, login_as, make_clients, make_client, make_contact, django_assert_num_queries
):
    client = login_as(cast.alice)
    client.get(URL)  # settles the session's first-visit writes
    for n in (5, 55):
        for c in make_clients(cast.alpha, n, prefix=f"Smith {n}"):
            make_contact(c, "Pat", f"Smith{c.pk}", email=f"pat{c.pk}@smith.test")
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the matching page (token
        # subqueries), 6 their tags, 7 active members, 8 tags, 9 reset the RLS context.
        with django_assert_num_queries(9):
            response = client.get(URL, {"q": "smith pat"})
        assert response.status_code == 200
    assert len(response.context["page"].rows) == 50
