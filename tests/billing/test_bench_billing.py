"""The billing bench data (bench/billing_seed.py) and its report scenarios, on
small firms: the right counts, every status, consistent money, idempotent."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.db.models import F, Sum

from advisoros.tenancy.db import tenant_context
from bench import harness as bench
from bench.billing_seed import seed_billing
from bench.billing_time import DAYS, PER_DAY
from billing.models import (
    OPEN_INVOICE_STATUSES,
    BillingSettings,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    TimeEntry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm():
    firm = bench.bench_firm_ensure("bench-billing", members=6)
    firm.size = 300
    bench.discover()
    with tenant_context(firm.organization):
        from bench.clients_seed import seed_clients

        seed_clients(organization=firm.organization, clients=firm.size)
    return firm


def test_it_seeds_an_invoice_a_client_and_ten_entries_with_every_status(firm):
    org = firm.organization
    with tenant_context(org):
        result = seed_billing(organization=org, invoices=300, entries=3000)
        invoices = Invoice.objects.filter(organization=org)
        statuses = Counter(invoices.values_list("status", flat=True))

        assert invoices.count() == 300
        assert TimeEntry.objects.filter(organization=org).count() == 3000
        assert result.invoices + result.credit_notes == 300
        assert set(statuses) == set(InvoiceStatus.values)
        # About a fifth of the invoices is still owed (receivables).
        open_share = sum(statuses[s] for s in OPEN_INVOICE_STATUSES) / 300
        assert 0.1 < open_share < 0.4
        assert InvoiceLine.objects.filter(organization=org).count() > 300
        assert Payment.objects.filter(organization=org).exists()
        # Some work is unbilled (work in progress), most is billed.
        unbilled = TimeEntry.objects.filter(
            organization=org, billable=True, invoice_line=None
        ).count()
        assert 0.02 * 3000 < unbilled < 0.25 * 3000


def test_the_money_adds_up_as_the_billing_services_leave_it(firm):
    org = firm.organization
    with tenant_context(org):
        seed_billing(organization=org, invoices=300, entries=3000)
        invoices = Invoice.objects.filter(organization=org)
        for invoice in invoices.annotate(lines_sum=Sum("lines__amount")):
            assert invoice.subtotal == invoice.lines_sum
            assert invoice.total == invoice.subtotal - invoice.discount_amount
            assert invoice.total - invoice.amount_credited - invoice.amount_paid >= 0
            if invoice.status == InvoiceStatus.PAID:
                assert invoice.balance == 0
            if invoice.status == InvoiceStatus.DRAFT:
                assert invoice.number is None and invoice.issue_date is None
        # A credit note credits an invoice of its own client, as much as it says.
        for note in invoices.filter(kind=InvoiceKind.CREDIT_NOTE).select_related(
            "credited_invoice"
        ):
            assert note.credited_invoice.client_id == note.client_id
            assert note.credited_invoice.amount_credited >= note.total
        # Billed time is on a time line of the same client's invoice, never void.
        billed = TimeEntry.objects.filter(organization=org, invoice_line__isnull=False)
        assert not billed.exclude(client=F("invoice_line__invoice__client")).exists()
        assert not billed.filter(invoice_line__invoice__status="void").exists()
        # Numbers run without a gap per kind, and the counters are past them.
        numbers = sorted(
            invoices.filter(kind=InvoiceKind.INVOICE, number__isnull=False).values_list(
                "number", flat=True
            )
        )
        assert numbers == list(range(1, len(numbers) + 1))
        counters = BillingSettings.objects.get(organization=org)
        assert counters.next_invoice_number == len(numbers) + 1


def test_a_second_run_adds_nothing_and_a_bigger_target_tops_up(firm):
    org = firm.organization
    with tenant_context(org):
        seed_billing(organization=org, invoices=200, entries=2000)
        again = seed_billing(organization=org, invoices=200, entries=2000)
        assert (again.invoices, again.entries) == (0, 0)

        more = seed_billing(organization=org, invoices=300, entries=3000)

        assert Invoice.objects.filter(organization=org).count() == 300
        assert TimeEntry.objects.filter(organization=org).count() == 3000
        assert more.invoices + more.credit_notes == 100
        numbers = list(
            Invoice.objects.filter(organization=org, kind=InvoiceKind.INVOICE)
            .exclude(number=None)
            .values_list("number", flat=True)
        )
        assert len(numbers) == len(set(numbers))


def test_the_report_scenarios_answer_with_the_same_queries_at_both_sizes(tmp_path):
    out = StringIO()
    results = bench.run(
        stdout=out,
        firms=(("bench-a", 40), ("bench-b", 120)),
        only="ar_ageing,wip_by",
        runs=2,
    )
    pages = [m for m in results if m.scenario != bench.FLOOR]

    assert {m.scenario for m in pages} == {
        "ar_ageing",
        "wip_by_client",
        "wip_by_partner",
    }
    for name in ("ar_ageing", "wip_by_client", "wip_by_partner"):
        small, large = (m for m in pages if m.scenario == name)
        assert small.queries == large.queries
        assert small.target_p95_ms == large.target_p95_ms == 100.0
    firm = bench.bench_firm_ensure("bench-b")
    with tenant_context(firm.organization):
        assert Invoice.objects.filter(organization=firm.organization).count() == 120
        # Ten a client, and the timekeeper's week (bench/billing_time.py).
        assert TimeEntry.objects.filter(organization=firm.organization).count() == (
            1200 + DAYS * PER_DAY
        )
