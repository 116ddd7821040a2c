"""The summaries PostgreSQL keeps for the money reports (billing_clientbalance,
billing_moneyday, migration billing 0004): after every kind of write, the
reports read from them give exactly what the rows themselves give."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from advisoros.tenancy.db import tenant_context
from billing.models import ClientBalance, MoneyDay, TimeEntry
from billing.reports.period import Period
from billing.reports.selectors import (
    BY_CLIENT,
    BY_PARTNER,
    ReportScope,
    ar_ageing_report,
    wip_report,
)
from billing.services.invoices import (
    credit_note_create,
    invoice_add_time,
    invoice_delete_draft,
    invoice_issue,
    invoice_line_remove,
    invoice_void,
)
from billing.services.payments import payment_record
from clients.models import Client
from tests.factories import (
    make_client,
    make_draft_invoice,
    make_issued_invoice,
    write_time_entry,
)

D = Decimal
ALL = Period("all", None, None)


def _reports(organization, today, limit):
    scope = ReportScope(organization=organization, today=today)
    found = {}
    for summaries in (True, False):
        with tenant_context(organization):
            found[summaries] = (
                wip_report(scope, ALL, BY_CLIENT, limit=limit, summaries=summaries),
                wip_report(scope, ALL, BY_PARTNER, limit=limit, summaries=summaries),
                ar_ageing_report(scope, ALL, limit=limit, summaries=summaries),
            )
    return found


def assert_summaries_agree(organization, today, limit: int = 3) -> None:
    """Each report's totals and rows, from the summaries and from the rows."""
    found = _reports(organization, today, limit)
    for fast, slow, name in zip(
        found[True], found[False], ("wip", "wip by partner", "ageing"), strict=True
    ):
        assert fast.total == slow.total, name
        assert fast.rows == slow.rows, name
        assert fast.more == slow.more, name


def balances(organization) -> dict[str, tuple]:
    with tenant_context(organization):
        return {
            b.client.display_name: (b.unbilled_entries, b.unbilled_minutes,
                                    b.unbilled_cents, b.open_invoices, b.open_cents)
            for b in ClientBalance.objects.select_related("client")
            if b.unbilled_entries or b.open_invoices
        }  # fmt: skip


def test_time_entries_written_edited_billed_and_deleted(
    cast, today, acme, birch, cedar
):
    one = write_time_entry(acme, cast.sam, minutes=90, rate="200", day=today)
    write_time_entry(acme, cast.sam, minutes=1, rate="0.30", day=today)  # 0.005 up
    write_time_entry(
        birch, cast.adam, minutes=45, rate="150", day=today - timedelta(40)
    )
    write_time_entry(cedar, cast.mia, minutes=60, rate="100", billable=False)

    assert balances(cast.alpha) == {
        "Acme Widgets": (2, 91, 30001, 0, 0),
        "Birch Bakery": (1, 45, 11250, 0, 0),
    }
    assert_summaries_agree(cast.alpha, today)

    with tenant_context(cast.alpha):
        TimeEntry.objects.filter(pk=one.pk).update(minutes=30, rate=D("100"))
        TimeEntry.objects.filter(pk=one.pk).update(description="No change")
        TimeEntry.objects.filter(client=cedar).update(billable=True)
        TimeEntry.objects.filter(client=birch).update(client=cedar)
    assert balances(cast.alpha) == {
        "Acme Widgets": (2, 31, 5001, 0, 0),
        "Cedar Trust": (2, 105, 21250, 0, 0),
    }
    assert_summaries_agree(cast.alpha, today)

    draft = make_draft_invoice(acme, cast.alice, lines=())
    with tenant_context(cast.alpha):
        (line, *_) = invoice_add_time(invoice=draft, by=cast.alice)
    assert_summaries_agree(cast.alpha, today)
    assert "Acme Widgets" not in balances(cast.alpha)  # all of it on the draft
    with tenant_context(cast.alpha):
        invoice_line_remove(line=line, by=cast.alice)
    assert_summaries_agree(cast.alpha, today)
    with tenant_context(cast.alpha):
        invoice_add_time(invoice=draft, by=cast.alice)
        invoice_delete_draft(invoice=draft, by=cast.alice)
        TimeEntry.objects.filter(client=acme).delete()
    assert "Acme Widgets" not in balances(cast.alpha)
    assert_summaries_agree(cast.alpha, today)


def test_invoices_issued_paid_credited_and_voided(cast, today, acme, birch):
    first = make_issued_invoice(acme, cast.alice, lines=(("Audit", "1", "1000"),))
    second = make_issued_invoice(birch, cast.alice, lines=(("Books", "2", "125.5"),))
    assert balances(cast.alpha)["Acme Widgets"][3:] == (1, 100000)
    assert_summaries_agree(cast.alpha, today)

    with tenant_context(cast.alpha):
        payment_record(invoice=first, by=cast.alice, amount=D("400"), method="check")
        credit_note_create(invoice=first, by=cast.alice, amount=D("100"), reason="x")
    assert balances(cast.alpha)["Acme Widgets"][3:] == (1, 50000)
    assert_summaries_agree(cast.alpha, today)

    with tenant_context(cast.alpha):
        payment_record(invoice=first, by=cast.alice, amount=D("500"), method="wire")
        invoice_void(invoice=second, by=cast.alice, reason="Duplicate")
    assert balances(cast.alpha) == {}
    assert_summaries_agree(cast.alpha, today)


def test_a_clients_new_partner_takes_its_figures_along(cast, today, acme, birch):
    with tenant_context(cast.alpha):
        Client.objects.filter(pk=acme.pk).update(partner=cast.mia)
    write_time_entry(acme, cast.sam, minutes=60, rate="150", day=today)
    write_time_entry(birch, cast.sam, minutes=30, rate="150", day=today)
    make_issued_invoice(acme, cast.alice)

    def partners(kind):
        with tenant_context(cast.alpha):
            return dict(
                MoneyDay.objects.filter(kind=kind, count__gt=0)
                .values_list("partner_key")
                .annotate(Sum("cents"))
            )

    assert partners(MoneyDay.Kind.UNBILLED) == {cast.mia.pk: 15000, cast.adam.pk: 7500}
    with tenant_context(cast.alpha):
        Client.objects.filter(pk=acme.pk).update(partner=cast.alice)
        Client.objects.filter(pk=birch.pk).update(partner=cast.alice)
    assert partners(MoneyDay.Kind.UNBILLED) == {cast.alice.pk: 22500}
    assert partners(MoneyDay.Kind.DUE) == {cast.alice.pk: 50000}
    assert_summaries_agree(cast.alpha, today)


def test_the_largest_clients_are_the_same_whichever_way(cast, today):
    """More clients than a page: the summaries pick the same largest ones, a
    client whose draft outweighs everyone's time among them, ties in order."""
    clients = [make_client(cast.alpha, f"Client {i:02}") for i in range(8)]
    for i, client in enumerate(clients):
        write_time_entry(client, cast.sam, minutes=60, rate=str(100 + 10 * (i % 4)))
        if i % 3:
            make_issued_invoice(client, cast.alice, lines=(("Fee", "1", str(50 * i)),))
    make_draft_invoice(clients[0], cast.alice, lines=(("Big draft", "1", "5000"),))

    for limit in (1, 3, 5, 50):
        assert_summaries_agree(cast.alpha, today, limit=limit)
    with tenant_context(cast.alpha):
        scope = ReportScope(organization=cast.alpha, today=today)
        top = wip_report(scope, ALL, BY_CLIENT, limit=1)
    assert top.rows[0]["client_name"] == "Client 00" and top.more


def test_a_bulk_insert_is_summed_once_per_client_and_day(cast, today, acme, birch):
    with tenant_context(cast.alpha):
        TimeEntry.objects.bulk_create(
            TimeEntry(
                organization=cast.alpha,
                user=cast.sam,
                client=(acme, birch)[i % 2],
                date=today - timedelta(days=i % 5),
                minutes=6 * (i % 7 + 1),
                rate=D("120"),
            )
            for i in range(500)
        )
        expected = {
            row["client"]: (row["n"], row["minutes"])
            for row in TimeEntry.objects.values("client").annotate(
                n=Count("pk"), minutes=Sum("minutes")
            )
        }
        kept = {
            b.client_id: (b.unbilled_entries, b.unbilled_minutes)
            for b in ClientBalance.objects.all()
        }
    assert kept == expected
    assert_summaries_agree(cast.alpha, today)


def test_a_firm_never_sees_or_moves_another_firms_summaries(cast, today, acme):
    beta_client = make_client(cast.beta, "Beta Client")
    write_time_entry(beta_client, cast.oscar, minutes=600, rate="500")
    write_time_entry(acme, cast.sam, minutes=60, rate="100")

    with tenant_context(cast.alpha):
        assert set(ClientBalance.objects.values_list("organization", flat=True)) == {
            cast.alpha.pk
        }
        assert MoneyDay.objects.filter(organization=cast.beta).count() == 0
    assert_summaries_agree(cast.alpha, today)
    assert_summaries_agree(cast.beta, today)


def test_a_second_click_on_issue_counts_nothing_twice(cast, today, acme):
    from django.core.exceptions import ValidationError

    invoice = make_issued_invoice(acme, cast.alice)
    with tenant_context(cast.alpha), pytest.raises(ValidationError):
        invoice_issue(invoice=invoice, by=cast.alice)

    assert balances(cast.alpha)["Acme Widgets"][3:] == (1, 50000)
    assert_summaries_agree(cast.alpha, today)


def test_a_draft_counts_as_work_in_progress_until_it_is_issued(cast, today, acme):
    from billing.services.invoices import invoice_add_line

    draft = make_draft_invoice(acme, cast.alice, lines=(("Advice", "2", "150"),))

    def drafts() -> tuple[int, int]:
        with tenant_context(cast.alpha):
            b = ClientBalance.objects.get(client=acme)
        return b.draft_invoices, b.draft_cents

    assert drafts() == (1, 30000)
    with tenant_context(cast.alpha):
        invoice_add_line(
            invoice=draft,
            by=cast.alice,
            description="Filing",
            quantity=D("1"),
            unit_price=D("49.99"),
        )
    assert drafts() == (1, 34999)
    assert_summaries_agree(cast.alpha, today)

    with tenant_context(cast.alpha):
        invoice_issue(invoice=draft, by=cast.alice)
    assert drafts() == (0, 0)
    assert balances(cast.alpha)["Acme Widgets"][3:] == (1, 34999)
    assert_summaries_agree(cast.alpha, today)


def test_the_invoice_lists_outstanding_totals_agree_per_currency(
    cast, today, acme, birch, login_as
):
    """The list's "outstanding" reads the firm's due days; one client's (and an
    assigned-only member's) read the invoices: the same amounts."""
    make_issued_invoice(acme, cast.alice, lines=(("Audit", "1", "1000"),))
    late = make_issued_invoice(birch, cast.alice, lines=(("Books", "1", "250.10"),))
    euro = make_issued_invoice(birch, cast.alice, lines=(("Advice", "1", "99.99"),))
    with tenant_context(cast.alpha):
        from billing.models import Invoice

        Invoice.objects.filter(pk=late.pk).update(due_date=today - timedelta(days=3))
        Invoice.objects.filter(pk=euro.pk).update(currency="EUR")
        payment_record(invoice=late, by=cast.alice, amount=D("50"), method="check")

    owed = login_as(cast.alice).get("/o/alpha/billing/invoices/").context["outstanding"]

    assert [
        (o.currency, o.amount, o.count, o.overdue_amount, o.overdue_count) for o in owed
    ] == [
        ("EUR", D("99.99"), 1, D("0.00"), 0),
        ("USD", D("1200.10"), 2, D("200.10"), 1),
    ]
