"""Both sides changed since the last sync: a conflict, shown and left alone
by every run (never silently overwritten) until a person resolves it. An
issued invoice's amount changed in QuickBooks is a conflict, not an edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from clients.services.clients import client_update
from integrations.quickbooks.models import QuickBooksLink, SyncIssue
from integrations.quickbooks.sync import resolutions_for, sync_issue_resolve
from tests.factories import make_issued_invoice
from tests.integrations.quickbooks.conftest import FIRM_REALM, sync

API = f"/v3/company/{FIRM_REALM}/"


@pytest.fixture
def renamed_both_ways(cast, alpha_books, firm_company):
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)
    with tenant_context(cast.alpha):
        client = Client.objects.get()
        client_update(client=client, data={"display_name": "Acme Group"})
    firm_company.touch("Customer", acme["Id"], DisplayName="Acme Holdings")
    return client, acme


def the_issue(org) -> SyncIssue:
    with tenant_context(org):
        return SyncIssue.objects.get()


def test_a_conflict_is_shown_and_neither_side_overwritten(
    cast, alpha_books, firm_company, intuit_standin, renamed_both_ways
):
    client, acme = renamed_both_ways

    first = sync(alpha_books)
    second = sync(alpha_books, full=True)

    assert first.counts["Customer"]["conflicts"] == 1
    assert second.counts["Customer"] == {"skipped": 1}
    with tenant_context(cast.alpha):
        client.refresh_from_db()
    assert client.display_name == "Acme Group"
    assert firm_company.entities("Customer")[acme["Id"]]["DisplayName"] == (
        "Acme Holdings"
    )
    assert intuit_standin.requests_to(API + "customer", method="POST") == []
    issue = the_issue(cast.alpha)
    assert (issue.kind, issue.status, issue.entity) == ("conflict", "open", "Customer")
    assert issue.ours == {"name": "Acme Group", "email": ""}
    assert issue.theirs["name"] == "Acme Holdings"
    assert [c for c, _ in resolutions_for(issue)] == [
        "keep_ours",
        "take_theirs",
        "leave",
    ]


def test_keeping_ours_writes_ours_to_quickbooks_on_the_next_run(
    cast, alpha_books, firm_company, renamed_both_ways
):
    client, acme = renamed_both_ways
    sync(alpha_books)

    with tenant_context(cast.alpha):
        sync_issue_resolve(
            issue=the_issue(cast.alpha), choice="keep_ours", by=cast.alice
        )
    sync(alpha_books)

    assert firm_company.entities("Customer")[acme["Id"]]["DisplayName"] == (
        "Acme Group"
    )
    issue = the_issue(cast.alpha)
    assert (issue.status, issue.resolution, issue.resolved_by) == (
        "resolved",
        "keep_ours",
        cast.alice,
    )


def test_taking_theirs_renames_ours_and_leaves_quickbooks_alone(
    cast, alpha_books, firm_company, intuit_standin, renamed_both_ways
):
    client, acme = renamed_both_ways
    sync(alpha_books)

    with tenant_context(cast.alpha):
        sync_issue_resolve(
            issue=the_issue(cast.alpha), choice="take_theirs", by=cast.alice
        )
        client.refresh_from_db()
    sync(alpha_books)

    assert client.display_name == "Acme Holdings"
    assert intuit_standin.requests_to(API + "customer", method="POST") == []


def test_an_invoice_amount_changed_in_quickbooks_is_a_conflict_not_an_edit(
    cast, jane, alpha_books, firm_company, intuit_standin
):
    invoice = make_issued_invoice(jane, cast.alice, lines=(("Audit", "1", "800"),))
    sync(alpha_books)
    (qbo_id,) = firm_company.entities("Invoice")
    firm_company.touch("Invoice", qbo_id, TotalAmt=720)

    run = sync(alpha_books)

    assert run.counts["Invoice"]["conflicts"] == 1
    with tenant_context(cast.alpha):
        invoice.refresh_from_db()
        assert invoice.total == Decimal("800.00")
        assert invoice.lines.count() == 1
    issue = the_issue(cast.alpha)
    assert issue.label == invoice.display_number
    assert (issue.ours, issue.theirs["total"]) == ({"total": "800.00"}, "720.00")
    # Taking QuickBooks' amount is not offered: an issued invoice never changes.
    assert "take_theirs" not in dict(resolutions_for(issue))
    with tenant_context(cast.alpha), pytest.raises(ValidationError):
        sync_issue_resolve(issue=issue, choice="take_theirs", by=cast.alice)

    with tenant_context(cast.alpha):
        sync_issue_resolve(issue=issue, choice="keep_ours", by=cast.alice)
    sync(alpha_books)

    assert Decimal(str(firm_company.entities("Invoice")[qbo_id]["TotalAmt"])) == (
        Decimal("800")
    )
    with tenant_context(cast.alpha):
        link = QuickBooksLink.objects.get(entity="Invoice")
    assert link.state == "synced"


def test_leaving_both_keeps_them_apart_until_one_changes_again(
    cast, alpha_books, firm_company, intuit_standin, renamed_both_ways
):
    client, acme = renamed_both_ways
    sync(alpha_books)
    with tenant_context(cast.alpha):
        sync_issue_resolve(issue=the_issue(cast.alpha), choice="leave", by=cast.alice)

    quiet = sync(alpha_books, full=True)
    firm_company.touch("Customer", acme["Id"], DisplayName="Acme Worldwide")
    moved = sync(alpha_books)

    assert quiet.counts["Customer"] == {"unchanged": 1}
    assert moved.counts["Customer"]["updated"] == 1
    with tenant_context(cast.alpha):
        client.refresh_from_db()
    assert client.display_name == "Acme Worldwide"
