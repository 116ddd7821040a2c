"""Create and edit a client: sections, clear errors, the tax id; archive and restore."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import connection

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership, Organization
from clients.models import Client, ClientStatus, ClientTag, EntityType, Tag

NEW = "/o/alpha/clients/new/"


def _edit(client: Client) -> str:
    return f"/o/alpha/clients/{client.uuid}/edit/"


def _detail(client: Client) -> str:
    return f"/o/alpha/clients/{client.uuid}/"


def _data(**overrides) -> dict:
    data = {
        "display_name": "Jane Doe",
        "legal_name": "",
        "client_code": "",
        "entity_type": EntityType.INDIVIDUAL,
        "status": ClientStatus.ACTIVE,
        "risk_level": "low",
        "industry": "",
        "tax_id": "",
        "fiscal_year_end_month": "12",
        "fiscal_year_end_day": "31",
        "email": "",
        "phone": "",
        "website": "",
        "address_line1": "",
        "address_line2": "",
        "city": "",
        "region": "",
        "postal_code": "",
        "country": "US",
        "partner": "",
        "manager": "",
        "staff": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _fresh(client: Client) -> Client:
    with tenant_context(client.organization):
        return Client.objects.get(pk=client.pk)


def _only_client(org) -> Client:
    with tenant_context(org):
        return Client.objects.get()


def _raw_tax_id(client: Client) -> str:
    with tenant_context(client.organization), connection.cursor() as cursor:
        cursor.execute("SELECT tax_id FROM clients_client WHERE id = %s", [client.pk])
        return cursor.fetchone()[0]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# Create ---------------------------------------------------------------------------


def test_the_form_is_grouped_in_sections(cast, login_as):
    html = login_as(cast.sam).get(NEW).content.decode()

    for legend in ("Identity", "Tax", "Contact details", "Address", "Assignment"):
        assert f"<legend>{legend}</legend>" in html
    assert 'name="clear_tax_id"' not in html  # nothing stored to remove yet


def test_it_creates_a_client_and_goes_to_its_page(cast, login_as):
    with tenant_context(cast.alpha):
        vip = Tag.objects.create(organization=cast.alpha, name="VIP")

    response = login_as(cast.sam).post(
        NEW,
        _data(
            display_name="Jane Doe",
            tax_id="123 45 6789",
            partner=str(cast.alice.pk),
            staff=str(cast.sam.pk),
            tags=[str(vip.pk)],
        ),
    )

    client = _only_client(cast.alpha)
    assert response.status_code == 302
    assert response.url == _detail(client)
    assert client.client_code == "DOE-J"  # suggested from the name
    assert client.tax_id == "123-45-6789" and client.tax_id_last4 == "6789"
    assert client.partner == cast.alice and client.staff_id == cast.sam.pk
    with tenant_context(cast.alpha):
        assert list(ClientTag.objects.values_list("tag__name", flat=True)) == ["VIP"]
    assert _messages(response) == ["Jane Doe added."]


def test_the_tax_id_is_stored_encrypted(cast, login_as):
    login_as(cast.sam).post(NEW, _data(tax_id="123-45-6789"))

    raw = _raw_tax_id(_only_client(cast.alpha))

    assert raw and "6789" not in raw and "123" not in raw


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"tax_id": "12345"}, "tax_id", "A tax id has 9 digits"),
        (
            {"tax_id": "123-45-6789", "entity_type": EntityType.LLC},
            "tax_id",
            "files under an EIN",
        ),
        ({"tax_id": "666-12-3456"}, "tax_id", "not a valid SSN or ITIN"),
        ({"display_name": ""}, "display_name", "This field is required."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"fiscal_year_end_day": "32"}, "fiscal_year_end_day", "less than or equal"),
    ],
)
def test_it_shows_errors_on_the_right_field(cast, login_as, fields, field, message):
    response = login_as(cast.sam).post(NEW, _data(**fields))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert message.split(" ")[0] in response.content.decode()
    with tenant_context(cast.alpha):
        assert not Client.objects.exists()


def test_a_duplicate_client_code_is_an_error_on_the_code(cast, login_as, make_client):
    make_client(cast.alpha, "Acme", client_code="ACME")

    response = login_as(cast.sam).post(
        NEW, _data(display_name="Acme Two", client_code="acme")
    )

    assert response.context["form"].errors == {
        "client_code": ["Another client already has this code."]
    }
    assert "Another client already has this code." in response.content.decode()


def test_the_same_code_in_another_firm_is_fine(cast, login_as, make_client):
    make_client(cast.beta, "Acme", client_code="ACME")

    response = login_as(cast.sam).post(
        NEW, _data(display_name="Acme", client_code="ACME")
    )

    assert response.status_code == 302


def test_assignees_must_be_active_members_of_the_firm(cast, login_as):
    with platform_bypass():
        Membership.objects.filter(user=cast.rita, organization=cast.alpha).update(
            is_active=False
        )
    http = login_as(cast.sam)

    for outsider in (cast.oscar, cast.rita):
        response = http.post(NEW, _data(partner=str(outsider.pk)))
        assert "Select a valid choice" in response.context["form"].errors["partner"][0]
    html = http.get(NEW).content.decode()
    assert "Alice Owner" in html and "Oscar Outsider" not in html
    assert "Rita Readonly" not in html


def test_tags_offered_are_the_firms_own(cast, login_as):
    with tenant_context(cast.beta):
        beta_tag = Tag.objects.create(organization=cast.beta, name="Beta secret")

    http = login_as(cast.sam)
    html = http.get(NEW).content.decode()
    response = http.post(NEW, _data(tags=[str(beta_tag.pk)]))

    assert "Beta secret" not in html
    assert "tags" in response.context["form"].errors


def test_archived_is_not_a_status_to_create_with(cast, login_as):
    response = login_as(cast.sam).post(NEW, _data(status=ClientStatus.ARCHIVED))

    assert "status" in response.context["form"].errors


def test_read_only_members_cannot_create(cast, login_as):
    http = login_as(cast.rita)

    assert http.get(NEW).status_code == 403
    assert http.post(NEW, _data()).status_code == 403


# Edit -----------------------------------------------------------------------------


def test_the_edit_form_never_shows_the_full_tax_id(cast, login_as, make_client):
    client = make_client(cast.alpha, "Jane Doe", tax_id="123-45-6789")

    html = login_as(cast.sam).get(_edit(client)).content.decode()

    assert "•••-••-6789" in html
    assert "123-45" not in html and "123456789" not in html
    assert 'name="clear_tax_id"' in html


def test_a_blank_tax_id_keeps_the_stored_one(cast, login_as, make_client):
    client = make_client(cast.alpha, "Jane Doe", tax_id="123-45-6789")

    response = login_as(cast.sam).post(
        _edit(client), _data(display_name="Jane Q. Doe", client_code=client.client_code)
    )

    assert response.status_code == 302 and response.url == _detail(client)
    fresh = _fresh(client)
    assert fresh.display_name == "Jane Q. Doe"
    assert fresh.tax_id == "123-45-6789" and fresh.tax_id_last4 == "6789"


def test_a_typed_tax_id_replaces_the_stored_one(cast, login_as, make_client):
    client = make_client(cast.alpha, "Jane Doe", tax_id="123-45-6789")

    login_as(cast.sam).post(
        _edit(client), _data(tax_id="987654321", client_code=client.client_code)
    )

    fresh = _fresh(client)
    assert fresh.tax_id == "987-65-4321" and fresh.tax_id_last4 == "4321"
    assert "4321" not in _raw_tax_id(fresh)


def test_the_stored_tax_id_can_be_removed(cast, login_as, make_client):
    client = make_client(cast.alpha, "Jane Doe", tax_id="123-45-6789")

    login_as(cast.sam).post(
        _edit(client), _data(clear_tax_id="on", client_code=client.client_code)
    )

    fresh = _fresh(client)
    assert fresh.tax_id == "" and fresh.tax_id_last4 == ""


def test_a_new_entity_type_must_fit_the_stored_tax_id(cast, login_as, make_client):
    client = make_client(cast.alpha, "Jane Doe", tax_id="123-45-6789")

    response = login_as(cast.sam).post(
        _edit(client),
        _data(entity_type=EntityType.C_CORP, client_code=client.client_code),
    )

    assert "files under an EIN" in response.context["form"].errors["tax_id"][0]
    assert _fresh(client).entity_type == EntityType.INDIVIDUAL
    assert "123-45" not in response.content.decode()


def test_editing_to_another_clients_code_is_an_error(cast, login_as, make_client):
    make_client(cast.alpha, "Acme", client_code="ACME")
    client = make_client(cast.alpha, "Jane Doe", client_code="DOE-J")

    response = login_as(cast.sam).post(_edit(client), _data(client_code="Acme"))

    assert response.context["form"].errors == {
        "client_code": ["Another client already has this code."]
    }
    assert _fresh(client).client_code == "DOE-J"


def test_the_edit_form_shows_the_current_tags_and_can_change_them(
    cast, login_as, make_client
):
    with tenant_context(cast.alpha):
        vip = Tag.objects.create(organization=cast.alpha, name="VIP")
        payroll = Tag.objects.create(organization=cast.alpha, name="Payroll")
    client = make_client(cast.alpha, "Jane Doe", tags=[vip])
    http = login_as(cast.sam)

    html = http.get(_edit(client)).content.decode()
    http.post(
        _edit(client), _data(client_code=client.client_code, tags=[str(payroll.pk)])
    )

    assert f'value="{vip.pk}" id="id_tags_1" checked' in html
    with tenant_context(cast.alpha):
        assert list(
            ClientTag.objects.filter(client=client).values_list("tag__name", flat=True)
        ) == ["Payroll"]


def test_an_archived_clients_status_is_fixed_until_restored(
    cast, login_as, make_client
):
    client = make_client(cast.alpha, "Jane Doe")
    http = login_as(cast.sam)
    http.post(f"/o/alpha/clients/{client.uuid}/archive/")

    response = http.post(
        _edit(client),
        _data(
            display_name="Jane Archived",
            status=ClientStatus.ACTIVE,
            client_code=client.client_code,
        ),
    )

    fresh = _fresh(client)
    assert response.status_code == 302
    assert fresh.display_name == "Jane Archived"
    assert fresh.status == ClientStatus.ARCHIVED


def test_another_firms_client_is_not_found(cast, login_as, make_client):
    theirs = make_client(cast.beta, "Theirs")

    http = login_as(cast.alice)

    assert http.get(_edit(theirs)).status_code == 404
    assert http.post(_edit(theirs), _data()).status_code == 404


def test_with_assigned_only_staff_edit_only_their_clients(cast, login_as, make_client):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    mine = make_client(cast.alpha, "Mine", staff=cast.sam)
    not_mine = make_client(cast.alpha, "Not mine")
    http = login_as(cast.sam)

    assert http.get(_edit(mine)).status_code == 200
    assert http.get(_edit(not_mine)).status_code == 404
    assert http.post(f"/o/alpha/clients/{not_mine.uuid}/archive/").status_code == 404


def test_the_edit_page_query_count_does_not_grow(
    cast, login_as, make_client, django_assert_num_queries
):
    client = make_client(cast.alpha, "Jane Doe", tax_id="123-45-6789")
    http = login_as(cast.sam)
    http.get(_edit(client))  # settles the session's first-visit writes
    for n in (2, 12):
        with tenant_context(cast.alpha):
            tags = Tag.objects.bulk_create(
                Tag(organization=cast.alpha, name=f"Tag {n}-{i}") for i in range(n)
            )
            client.tags.add(*tags, through_defaults={"organization": cast.alpha})
        # 1 session, 2 user, 3 the firm, entered in its RLS context, 4 the member's
        # firms (the membership and the switcher), 5 the client, 6 its tags (initial),
        # 7-9 members for partner, manager and staff, 10 the firm's tags, 11 reset the
        # context.
        with django_assert_num_queries(11):
            response = http.get(_edit(client))
        assert response.status_code == 200


# Archive and restore --------------------------------------------------------------


def test_it_archives_and_restores_with_messages(cast, login_as, make_client):
    client = make_client(cast.alpha, "Jane Doe")
    http = login_as(cast.sam)

    archived = http.post(f"/o/alpha/clients/{client.uuid}/archive/")
    assert archived.url == _detail(client)
    assert _fresh(client).status == ClientStatus.ARCHIVED
    assert "Jane Doe archived" in _messages(archived)[-1]

    restored = http.post(f"/o/alpha/clients/{client.uuid}/restore/")
    assert restored.url == _detail(client)
    fresh = _fresh(client)
    assert fresh.status == ClientStatus.ACTIVE and fresh.archived_at is None
    assert _messages(restored)[-1] == "Jane Doe restored as active."


def test_the_archive_and_restore_buttons_ask_first(cast, login_as, make_client):
    client = make_client(cast.alpha, "Jane Doe")
    http = login_as(cast.sam)

    active_html = http.get(_edit(client)).content.decode()
    http.post(f"/o/alpha/clients/{client.uuid}/archive/")
    archived_html = http.get(_edit(client)).content.decode()

    assert f'action="/o/alpha/clients/{client.uuid}/archive/"' in active_html
    assert 'data-confirm="Archive Jane Doe?' in active_html
    assert f'action="/o/alpha/clients/{client.uuid}/restore/"' in archived_html
    assert 'data-confirm="Restore Jane Doe' in archived_html


def test_archive_and_restore_are_post_only_and_not_for_read_only(
    cast, login_as, make_client
):
    client = make_client(cast.alpha, "Jane Doe")

    assert (
        login_as(cast.sam).get(f"/o/alpha/clients/{client.uuid}/archive/").status_code
        == 405
    )
    rita = login_as(cast.rita)
    assert rita.post(f"/o/alpha/clients/{client.uuid}/archive/").status_code == 403
    assert rita.post(f"/o/alpha/clients/{client.uuid}/restore/").status_code == 403
    assert _fresh(client).status == ClientStatus.ACTIVE


# The firm's plan (advisoros.tenancy.plans) --------------------------------------

CLIENTS_FULL = (
    "Your plan (Starter) allows 3 clients (archived clients do not count); "
    "upgrade on the Subscription page."
)


def test_a_client_beyond_the_plan_is_refused_on_the_form(
    cast, login_as, make_client, alpha_on_starter
):
    for name in ("One", "Two", "Three"):
        make_client(cast.alpha, name)

    response = login_as(cast.sam).post(NEW, _data(display_name="Four"))

    assert response.status_code == 200
    assert CLIENTS_FULL in response.content.decode()
    with tenant_context(cast.alpha):
        assert not Client.objects.filter(display_name="Four").exists()


def test_an_archived_client_frees_its_place_and_cannot_come_back_over_the_plan(
    cast, login_as, make_client, alpha_on_starter
):
    one, *_ = [make_client(cast.alpha, name) for name in ("One", "Two", "Three")]
    http = login_as(cast.sam)
    http.post(f"/o/alpha/clients/{one.uuid}/archive/")

    created = http.post(NEW, _data(display_name="Four"))
    restored = http.post(f"/o/alpha/clients/{one.uuid}/restore/")

    assert created.status_code == 302
    assert restored.url == _detail(one)
    assert _messages(restored)[-1] == CLIENTS_FULL
    assert _fresh(one).status == ClientStatus.ARCHIVED


def test_clients_are_not_limited_while_the_platforms_billing_is_off(
    cast, login_as, make_client, starter
):
    for name in ("One", "Two", "Three"):
        make_client(cast.alpha, name)

    response = login_as(cast.sam).post(NEW, _data(display_name="Four"))

    assert response.status_code == 302
