"""Records are matched by QuickBooks id, never by name: a rename on either
side keeps the link, and ours are written to QuickBooks once, under the id
QuickBooks gave them."""

from __future__ import annotations

import json
from decimal import Decimal

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from clients.services.clients import client_update
from integrations.quickbooks.models import QuickBooksLink, SyncRun
from tests.factories import make_issued_invoice
from tests.integrations.quickbooks.conftest import FIRM_REALM, sync

API = f"/v3/company/{FIRM_REALM}/"


def link_of_client(org, client) -> QuickBooksLink:
    with tenant_context(org):
        return QuickBooksLink.objects.get(entity="Customer", client=client)


def test_a_rename_in_quickbooks_renames_the_linked_client(
    cast, alpha_books, firm_company
):
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)
    with tenant_context(cast.alpha):
        client = Client.objects.get()
    link = link_of_client(cast.alpha, client)

    firm_company.touch("Customer", acme["Id"], DisplayName="Acme Holdings")
    # Another customer takes the old name: a match by name would mix them up.
    firm_company.add("Customer", DisplayName="Acme Ltd")
    run = sync(alpha_books)

    assert run.status == SyncRun.Status.SUCCEEDED
    with tenant_context(cast.alpha):
        client.refresh_from_db()
        assert client.display_name == "Acme Holdings"
        newcomer = Client.objects.exclude(pk=client.pk).get()
    assert newcomer.display_name == "Acme Ltd"
    same = link_of_client(cast.alpha, client)
    assert (same.pk, same.qbo_id) == (link.pk, acme["Id"])
    assert link_of_client(cast.alpha, newcomer).qbo_id != acme["Id"]


def test_a_rename_here_renames_the_linked_customer_in_quickbooks(
    cast, alpha_books, firm_company, intuit_standin
):
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)
    with tenant_context(cast.alpha):
        client = Client.objects.get()
        client_update(client=client, data={"display_name": "Acme Group"})

    run = sync(alpha_books)

    assert run.counts["Customer"]["pushed"] == 1
    assert firm_company.entities("Customer")[acme["Id"]]["DisplayName"] == (
        "Acme Group"
    )
    assert len(firm_company.entities("Customer")) == 1
    (write,) = intuit_standin.requests_to(API + "customer", method="POST")
    assert json.loads(write.body)["Id"] == acme["Id"]
    link = link_of_client(cast.alpha, client)
    assert link.qbo_id == acme["Id"]
    assert link.sync_token == firm_company.entities("Customer")[acme["Id"]]["SyncToken"]
    # In step: the next run writes nothing.
    intuit_standin.requests.clear()
    sync(alpha_books)
    assert intuit_standin.requests_to(API + "customer", method="POST") == []


def test_a_rename_here_goes_through_when_quickbooks_moved_only_the_balance(
    cast, alpha_books, firm_company
):
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)
    # QuickBooks moved a field we do not sync (the SyncToken with it).
    firm_company.touch("Customer", acme["Id"], Balance=120)
    with tenant_context(cast.alpha):
        client = Client.objects.get()
        client_update(client=client, data={"display_name": "Acme Group"})

    run = sync(alpha_books)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert firm_company.entities("Customer")[acme["Id"]]["DisplayName"] == (
        "Acme Group"
    )


def test_an_issued_invoice_goes_to_quickbooks_with_its_customer_once(
    cast, jane, alpha_books, firm_company, intuit_standin
):
    invoice = make_issued_invoice(jane, cast.alice, lines=(("Tax return", "1", "650"),))

    first = sync(alpha_books)
    sync(alpha_books)

    assert first.counts["Customer"]["pushed"] == 1
    assert first.counts["Invoice"]["pushed"] == 1
    (customer,) = firm_company.entities("Customer").values()
    (pushed,) = firm_company.entities("Invoice").values()
    assert customer["DisplayName"] == "Jane Doe"
    assert pushed["CustomerRef"] == {"value": customer["Id"]}
    assert pushed["DocNumber"] == invoice.display_number
    assert Decimal(str(pushed["TotalAmt"])) == invoice.total == Decimal("650.00")
    with tenant_context(cast.alpha):
        link = QuickBooksLink.objects.get(entity="Invoice", invoice=invoice)
    assert link.qbo_id == pushed["Id"]
    assert link.state == QuickBooksLink.State.SYNCED


def test_a_client_saved_without_a_synced_change_is_not_written(
    cast, alpha_books, firm_company, intuit_standin
):
    firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)
    with tenant_context(cast.alpha):
        client = Client.objects.get()
        client_update(client=client, data={"industry": "Retail"})
        before = link_of_client(cast.alpha, client).synced_at

    sync(alpha_books)

    assert intuit_standin.requests_to(API + "customer", method="POST") == []
    assert link_of_client(cast.alpha, client).synced_at > before
