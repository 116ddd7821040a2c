"""Contacts: new people for a client, links to people the firm knows, edits, unlinks."""

from __future__ import annotations

import pytest

from advisoros.tenancy.db import tenant_context
from clients.models import Client, ClientContact, Contact, ContactRole
from clients.services.search import clients_matching


@pytest.fixture
def acme(cast, make_client):
    return make_client(cast.alpha, "Acme LLC", entity_type="llc", staff=cast.sam)


def _found(org, query: str) -> list[str]:
    """The firm's clients a search for `query` finds."""
    with tenant_context(org):
        qs = clients_matching(Client.objects.filter(organization=org), query)
        return sorted(qs.values_list("display_name", flat=True))


def _create(web, client, **data):
    fields = {"first_name": "Ann", "last_name": "Lee", "role": "primary", **data}
    return web.post(f"/o/alpha/clients/{client.uuid}/contacts/new/", fields)


def _links(client) -> list[tuple[str, str]]:
    with tenant_context(client.organization):
        return sorted(
            ClientContact.objects.filter(client=client).values_list(
                "contact__first_name", "role"
            )
        )


def test_a_new_contact_is_linked_with_its_role(cast, login_as, jane):
    web = login_as(cast.sam)

    response = _create(web, jane, email="ann@lee.test", title="CFO", role="billing")

    assert response.status_code == 302
    assert response.url == f"/o/alpha/clients/{jane.uuid}/?tab=contacts"
    assert _links(jane) == [("Ann", "billing")]
    html = web.get(response.url).content.decode()
    assert "Ann Lee" in html and "ann@lee.test" in html and "Billing" in html


def test_the_new_contact_page_shows_the_form(cast, login_as, jane):
    response = login_as(cast.sam).get(f"/o/alpha/clients/{jane.uuid}/contacts/new/")

    assert response.status_code == 200
    assert 'name="role"' in response.content.decode()


def test_an_email_already_used_in_the_firm_says_whom_to_link(
    cast, login_as, jane, acme, make_contact
):
    make_contact(acme, "Ann", "Lee", email="ann@lee.test")

    response = _create(login_as(cast.sam), jane, email="ANN@lee.test")

    assert response.status_code == 200
    assert (
        "A contact with this email already exists: Ann Lee — link them instead"
        in response.content.decode()
    )
    assert _links(jane) == []


def test_the_same_email_is_fine_in_another_firm(
    cast, login_as, jane, make_client, make_contact
):
    make_contact(make_client(cast.beta, "Beta Client"), "Bo", email="ann@lee.test")

    response = _create(login_as(cast.sam), jane, email="ann@lee.test")

    assert response.status_code == 302
    assert _links(jane) == [("Ann", "primary")]


def test_with_assigned_only_a_duplicate_email_does_not_name_a_hidden_contact(
    cast, login_as, jane, make_client, make_contact
):
    cast.alpha.assigned_clients_only = True
    cast.alpha.save()
    make_contact(make_client(cast.alpha, "Hidden Co"), "Secret", email="s@x.test")

    html = _create(login_as(cast.sam), jane, email="s@x.test").content.decode()

    assert "A contact with this email already exists." in html
    assert "Secret" not in html


def test_search_finds_the_client_by_a_new_contacts_email(cast, login_as, jane):
    _create(login_as(cast.sam), jane, email="ann@lee.test")

    assert _found(cast.alpha, "ann@lee.test") == ["Jane Doe"]
    assert _found(cast.alpha, "lee") == ["Jane Doe"]


def test_an_existing_contact_is_found_and_linked(
    cast, login_as, jane, acme, make_contact
):
    ann = make_contact(acme, "Ann", "Lee", email="ann@lee.test")
    web = login_as(cast.sam)

    page = web.get(f"/o/alpha/clients/{jane.uuid}/", {"tab": "contacts", "find": "an"})
    response = web.post(
        f"/o/alpha/clients/{jane.uuid}/contacts/link/",
        {"contact": str(ann.uuid), "role": ContactRole.SPOUSE},
    )

    matches = page.content.decode().split('data-testid="contact-matches"')[1]
    assert "Ann Lee" in matches.split("</table>")[0]
    assert response.status_code == 302
    assert _links(jane) == [("Ann", "spouse")]
    assert _links(acme) == [("Ann", "primary")]
    # Both clients are now found by her email; the contacts tab names the other.
    assert _found(cast.alpha, "ann@lee.test") == ["Acme LLC", "Jane Doe"]
    html = web.get(f"/o/alpha/clients/{jane.uuid}/?tab=contacts").content.decode()
    assert 'Acme LLC</a> <small class="muted">(primary)</small>' in html


def test_linking_twice_in_the_same_role_is_refused(cast, login_as, jane, make_contact):
    ann = make_contact(jane, "Ann", "Lee", email="ann@lee.test")

    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/contacts/link/",
        {"contact": str(ann.uuid), "role": ContactRole.PRIMARY},
        follow=True,
    )

    assert "Ann Lee is already linked to Jane Doe in this role." in (
        response.content.decode()
    )
    assert _links(jane) == [("Ann", "primary")]


def test_only_this_firms_contacts_can_be_linked(
    cast, login_as, jane, make_client, make_contact
):
    outsider = make_contact(make_client(cast.beta, "Beta Client"), "Bo", "Beta")
    web = login_as(cast.sam)

    response = web.post(
        f"/o/alpha/clients/{jane.uuid}/contacts/link/",
        {"contact": str(outsider.uuid), "role": ContactRole.PRIMARY},
        follow=True,
    )
    page = web.get(f"/o/alpha/clients/{jane.uuid}/", {"tab": "contacts", "find": "bo"})

    assert "Select a valid choice" in response.content.decode()
    assert _links(jane) == []
    assert "Bo Beta" not in page.content.decode()


def test_with_assigned_only_the_search_offers_only_contacts_of_your_clients(
    cast, login_as, jane, acme, make_client, make_contact
):
    cast.alpha.assigned_clients_only = True
    cast.alpha.save()
    make_contact(acme, "Anna", "Mine")
    hidden = make_contact(make_client(cast.alpha, "Hidden Co"), "Anne", "Hidden")
    web = login_as(cast.sam)

    page = web.get(f"/o/alpha/clients/{jane.uuid}/", {"tab": "contacts", "find": "ann"})
    response = web.post(
        f"/o/alpha/clients/{jane.uuid}/contacts/link/",
        {"contact": str(hidden.uuid), "role": ContactRole.PRIMARY},
    )

    html = page.content.decode()
    assert "Anna Mine" in html and "Anne Hidden" not in html
    assert response.status_code == 302
    assert _links(jane) == []


def test_unlinking_removes_the_client_from_search_but_keeps_the_contact(
    cast, login_as, jane, make_contact
):
    make_contact(jane, "Ann", "Lee", email="ann@lee.test")
    with tenant_context(cast.alpha):
        link = ClientContact.objects.get(client=jane)
    assert _found(cast.alpha, "ann@lee.test") == ["Jane Doe"]

    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/contacts/{link.uuid}/unlink/"
    )

    assert response.status_code == 302
    assert _links(jane) == []
    assert _found(cast.alpha, "ann@lee.test") == []
    with tenant_context(cast.alpha):
        assert Contact.objects.filter(email="ann@lee.test").exists()


def test_a_link_of_another_client_cannot_be_unlinked_through_this_one(
    cast, login_as, jane, acme, make_contact
):
    make_contact(acme, "Ann", "Lee")
    with tenant_context(cast.alpha):
        link = ClientContact.objects.get(client=acme)

    response = login_as(cast.sam).post(
        f"/o/alpha/clients/{jane.uuid}/contacts/{link.uuid}/unlink/"
    )

    assert response.status_code == 404
    assert _links(acme) == [("Ann", "primary")]


def test_the_edit_page_shows_every_client_the_contact_is_linked_to(
    cast, login_as, jane, acme, make_contact
):
    ann = make_contact(jane, "Ann", "Lee")
    with tenant_context(cast.alpha):
        ClientContact.objects.create(
            organization=cast.alpha, client=acme, contact=ann, role="officer"
        )

    response = login_as(cast.sam).get(f"/o/alpha/contacts/{ann.uuid}/edit/")

    linked = response.content.decode().split('data-testid="contact-clients"')[1]
    assert "Acme LLC" in linked and "Officer" in linked
    assert "Jane Doe" in linked and "Primary" in linked


def test_editing_a_contact_reindexes_every_linked_client(
    cast, login_as, jane, acme, make_contact
):
    ann = make_contact(jane, "Ann", "Lee", email="ann@lee.test")
    with tenant_context(cast.alpha):
        ClientContact.objects.create(
            organization=cast.alpha, client=acme, contact=ann, role="officer"
        )
        from clients.services.search import search_index_clients

        search_index_clients([acme.pk])

    response = login_as(cast.sam).post(
        f"/o/alpha/contacts/{ann.uuid}/edit/?client={acme.uuid}",
        {"first_name": "Ann", "last_name": "Smith", "email": "ann@smith.test"},
    )

    assert response.status_code == 302
    assert response.url == f"/o/alpha/clients/{acme.uuid}/?tab=contacts"
    assert _found(cast.alpha, "ann@smith.test") == ["Acme LLC", "Jane Doe"]
    assert _found(cast.alpha, "smith") == ["Acme LLC", "Jane Doe"]
    assert _found(cast.alpha, "ann@lee.test") == []


def test_an_edit_may_keep_its_own_email_but_not_take_anothers(
    cast, login_as, jane, make_contact
):
    ann = make_contact(jane, "Ann", "Lee", email="ann@lee.test")
    make_contact(jane, "Bob", "Lee", email="bob@lee.test")
    web = login_as(cast.sam)
    url = f"/o/alpha/contacts/{ann.uuid}/edit/"

    keep = web.post(url, {"first_name": "Annie", "email": "ANN@lee.test"})
    take = web.post(url, {"first_name": "Annie", "email": "bob@lee.test"})

    assert keep.status_code == 302
    assert "A contact with this email already exists: Bob Lee — link them instead" in (
        take.content.decode()
    )
    with tenant_context(cast.alpha):
        ann.refresh_from_db()
    assert (ann.first_name, ann.email) == ("Annie", "ANN@lee.test")


def test_another_firms_contact_is_not_found(cast, login_as, make_client, make_contact):
    bo = make_contact(make_client(cast.beta, "Beta Client"), "Bo")

    response = login_as(cast.alice).get(f"/o/alpha/contacts/{bo.uuid}/edit/")

    assert response.status_code == 404


def test_a_read_only_member_cannot_open_the_contact_forms(
    cast, login_as, jane, make_contact
):
    ann = make_contact(jane, "Ann")
    web = login_as(cast.rita)

    assert web.get(f"/o/alpha/clients/{jane.uuid}/contacts/new/").status_code == 403
    assert web.get(f"/o/alpha/contacts/{ann.uuid}/edit/").status_code == 403
