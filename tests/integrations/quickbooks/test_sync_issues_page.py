"""The sync's pages: the conflicts and errors (owners and admins), Retry and
the resolutions, Sync now, and the connection page's health."""

from __future__ import annotations

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from clients.services.clients import client_update
from integrations.quickbooks.models import SyncIssue, SyncRun
from tests.integrations.quickbooks.conftest import sync

URL = "/o/alpha/integrations/quickbooks/issues/"


def add_issues(cast, connection, n: int, start: int) -> None:
    with tenant_context(cast.alpha):
        SyncIssue.objects.bulk_create(
            SyncIssue(
                organization=cast.alpha,
                connection=connection,
                kind="error" if i % 2 else "conflict",
                direction="pull",
                entity="Customer",
                key=str(1000 + i),
                label=f"Customer {i}",
                message="Refused",
                ours={"name": f"Ours {i}", "email": ""},
                theirs={"name": f"Theirs {i}", "email": "", "sync_token": "2"},
            )
            for i in range(start, start + n)
        )


def test_the_page_costs_the_same_with_more_items(
    cast, login_as, alpha_books, django_assert_num_queries
):
    admin = login_as(cast.adam)
    admin.get(URL)  # warm: the session, the nav
    for n, start in ((2, 0), (30, 2)):
        add_issues(cast, alpha_books, n, start)
        # Queries: 1 the session, 2 the user, 3 the firm in its RLS context,
        # 4 the member's firms (middleware); 5 the newest open items;
        # 6 the RLS reset.
        with django_assert_num_queries(6):
            page = admin.get(URL).content.decode()
    assert page.count('data-testid="quickbooks-conflict"') == 16
    assert page.count('data-testid="quickbooks-error"') == 16
    assert "Theirs 1</dd>" not in page  # an error shows its message, not sides
    assert "Ours 4" in page and "Theirs 4" in page


def test_staff_and_read_only_members_cannot_open_it(cast, login_as, alpha_books):
    assert login_as(cast.sam).get(URL).status_code == 403
    assert login_as(cast.rita).get(URL).status_code == 403


def test_a_conflict_is_resolved_from_the_page_and_the_sync_follows(
    cast, login_as, alpha_books, firm_company, django_capture_on_commit_callbacks
):
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)
    with tenant_context(cast.alpha):
        client = Client.objects.get()
        client_update(client=client, data={"display_name": "Acme Group"})
    firm_company.touch("Customer", acme["Id"], DisplayName="Acme Holdings")
    sync(alpha_books)
    with tenant_context(cast.alpha):
        issue = SyncIssue.objects.get()
    owner = login_as(cast.alice)
    assert "Acme Holdings" in owner.get(URL).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            f"{URL}{issue.uuid}/resolve/", {"choice": "keep_ours"}, follow=True
        )

    assert "resolved; the sync follows" in response.content.decode()
    # The queued run wrote ours to QuickBooks.
    assert firm_company.entities("Customer")[acme["Id"]]["DisplayName"] == (
        "Acme Group"
    )
    with tenant_context(cast.alpha):
        issue.refresh_from_db()
        assert SyncRun.objects.count() == 3
    assert (issue.status, issue.resolution) == ("resolved", "keep_ours")


def test_an_unknown_choice_is_refused(cast, login_as, alpha_books):
    add_issues(cast, alpha_books, 1, 0)
    with tenant_context(cast.alpha):
        issue = SyncIssue.objects.get()

    response = login_as(cast.alice).post(
        f"{URL}{issue.uuid}/resolve/", {"choice": "take_all"}, follow=True
    )

    assert "Choose one of the offered resolutions" in response.content.decode()
    with tenant_context(cast.alpha):
        issue.refresh_from_db()
    assert issue.status == "open"


def test_retry_reads_the_object_again_and_closes_the_item(
    cast,
    login_as,
    jane,
    alpha_books,
    firm_company,
    django_capture_on_commit_callbacks,
):
    from decimal import Decimal

    from billing.services.payments import payment_record
    from tests.factories import make_issued_invoice

    invoice = make_issued_invoice(jane, cast.alice, lines=(("Audit", "1", "300"),))
    sync(alpha_books)
    invoice_id = next(iter(firm_company.entities("Invoice")))
    theirs = firm_company.add(
        "Payment",
        TotalAmt=300,
        Line=[
            {"Amount": 300, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
        ],
    )
    with tenant_context(cast.alpha):
        # Paid here first: QuickBooks' payment is then more than is owed.
        payment = payment_record(
            invoice=invoice, by=cast.alice, amount=Decimal("300"), method="check"
        )
    sync(alpha_books)
    with tenant_context(cast.alpha):
        issue = SyncIssue.objects.get(kind="error")
        from billing.services.payments import payment_refund

        payment_refund(payment=payment, by=cast.alice, amount=Decimal("300"))
    assert "more than" in login_as(cast.alice).get(URL).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        login_as(cast.alice).post(f"{URL}{issue.uuid}/retry/")

    with tenant_context(cast.alpha):
        issue.refresh_from_db()
        recorded = invoice.payments.filter(reference__contains=theirs["Id"]).count()
    assert (issue.status, issue.resolution) == ("resolved", "succeeded")
    assert recorded == 1


def test_sync_now_queues_a_run_and_the_page_shows_its_health(
    cast, login_as, alpha_books, firm_company, django_capture_on_commit_callbacks
):
    firm_company.add("Customer", DisplayName="Acme Ltd")
    owner = login_as(cast.alice)

    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/o/alpha/integrations/quickbooks/sync/")

    page = owner.get("/o/alpha/integrations/quickbooks/").content.decode()
    assert "A sync of the firm&#x27;s books is on its way." in page
    with tenant_context(cast.alpha):
        run = SyncRun.objects.get()
    assert run.status == "succeeded"
    health = page.split('data-testid="quickbooks-health"')[1].split("</dl>")[0]
    assert "Succeeded" in health
    assert "None" in health  # no conflicts, no errors
