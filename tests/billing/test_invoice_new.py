"""Starting an invoice: find the client, choose an engagement, land on the
draft; or, from the client's page, bill its unbilled time in one step."""

from __future__ import annotations

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from billing.models import Invoice
from clients.models import ClientStatus, Engagement
from tests.factories import make_client, write_time_entry

URL = "/o/alpha/billing/invoices/new/"


def _invoices(org) -> list[Invoice]:
    with tenant_context(org):
        return list(Invoice.objects.filter(organization=org))


def test_it_finds_clients_by_name(cast, login_as, jane):
    make_client(cast.alpha, "Jake Archived", status=ClientStatus.ARCHIVED)
    make_client(cast.alpha, "Acme Widgets")

    response = login_as(cast.sam).get(URL, {"q": "ja"})

    assert [c.display_name for c in response.context["matches"]] == ["Jane Doe"]
    assert f'href="?client={jane.uuid}"' in response.content.decode()


def test_a_search_that_finds_nobody_says_so(cast, login_as, jane):
    html = login_as(cast.sam).get(URL, {"q": "zzz"}).content.decode()

    assert 'data-testid="no-client-match"' in html


def test_it_starts_a_draft_for_the_client_and_engagement(cast, login_as, jane):
    with tenant_context(cast.alpha):
        books = Engagement.objects.create(
            organization=cast.alpha, client=jane, name="Books", engagement_type="other"
        )
    web = login_as(cast.sam)
    assert "Books" in web.get(URL, {"client": str(jane.uuid)}).content.decode()

    response = web.post(URL, {"client": str(jane.uuid), "engagement": books.pk})

    (invoice,) = _invoices(cast.alpha)
    assert (invoice.client_id, invoice.engagement_id, invoice.status) == (
        jane.pk,
        books.pk,
        "draft",
    )
    assert invoice.created_by_id == cast.sam.pk and invoice.currency == "USD"
    assert response.url == f"/o/alpha/billing/invoices/{invoice.uuid}/"


def test_another_clients_engagement_is_refused(cast, login_as, jane):
    other = make_client(cast.alpha, "Other Co")
    with tenant_context(cast.alpha):
        theirs = Engagement.objects.create(
            organization=cast.alpha,
            client=other,
            name="Theirs",
            engagement_type="other",
        )

    response = login_as(cast.sam).post(
        URL, {"client": str(jane.uuid), "engagement": theirs.pk}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert _invoices(cast.alpha) == []


def test_no_client_or_another_firms_client_is_refused(cast, login_as):
    beta_client = make_client(cast.beta, "Beta Client")
    web = login_as(cast.sam)

    for value in ("", str(beta_client.uuid), "not-a-uuid"):
        response = web.post(URL, {"client": value}, follow=True)
        assert "Choose a client for the invoice." in response.content.decode()
    assert _invoices(cast.alpha) == []
    assert _invoices(cast.beta) == []


def test_an_unassigned_client_is_not_offered_to_assigned_only_staff(
    cast, login_as, jane
):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(assigned_clients_only=True)
    other = make_client(cast.alpha, "Not Sams", partner=cast.alice)

    response = login_as(cast.sam).post(URL, {"client": str(other.uuid)}, follow=True)

    assert "Choose a client" in response.content.decode()
    assert _invoices(cast.alpha) == []


def test_bill_unbilled_time_makes_a_draft_of_all_of_it(cast, login_as, jane):
    for minutes in (60, 30):
        write_time_entry(jane, cast.sam, minutes=minutes, rate="100")

    response = login_as(cast.sam).post(
        URL, {"client": str(jane.uuid), "from_time": "1"}, follow=True
    )

    (invoice,) = _invoices(cast.alpha)
    with tenant_context(cast.alpha):
        assert invoice.lines.count() == 2
    assert str(invoice.total) == "150.00"
    assert "started from its unbilled time" in response.content.decode()


def test_bill_unbilled_time_with_none_left_makes_nothing(cast, login_as, jane):
    response = login_as(cast.sam).post(
        URL, {"client": str(jane.uuid), "from_time": "1"}, follow=True
    )

    assert "There is no unbilled time to add." in response.content.decode()
    assert _invoices(cast.alpha) == []


def test_read_only_gets_403(cast, login_as, jane):
    assert login_as(cast.rita).get(URL).status_code == 403
    assert login_as(cast.rita).post(URL, {"client": str(jane.uuid)}).status_code == 403
