"""seed_demo's billing for Demo CPA: time over the last months, invoices in
every status with payments, a refund and a credit note, a recurring invoice,
and an open invoice for the portal's demo contact; a second run adds nothing."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.db.models import Count

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from billing.models import (
    MANUAL_METHODS,
    OPEN_INVOICE_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    MemberRate,
    Payment,
    RecurringInvoice,
    Refund,
    TimeEntry,
)
from portal.demo import PORTAL_EMAIL
from portal.models import PortalGrant


def _counts() -> dict[str, int]:
    return {
        "entries": TimeEntry.objects.count(),
        "invoices": Invoice.objects.count(),
        "payments": Payment.objects.count(),
        "refunds": Refund.objects.count(),
        "recurring": RecurringInvoice.objects.count(),
        "rates": MemberRate.objects.count(),
    }


def test_the_demo_firm_bills_in_every_status_and_seeding_again_adds_nothing(
    db, settings, tmp_path
):
    settings.DEBUG = True  # seed_demo runs only in DEBUG
    settings.MEDIA_ROOT = str(tmp_path)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    demo = Organization.objects.get(slug="demo")
    with tenant_context(demo):
        first = _counts()
        call_command("seed_demo", stdout=StringIO())
        assert _counts() == first
        assert "Demo billing:" in out.getvalue()
        today = firm_today(demo)

        invoices = Invoice.objects.filter(kind=InvoiceKind.INVOICE)
        statuses = set(invoices.values_list("status", flat=True))
        assert statuses == set(InvoiceStatus.values)
        assert invoices.count() >= 12
        # Numbers follow the issue dates, with no gap.
        issued = list(
            invoices.exclude(status=InvoiceStatus.DRAFT)
            .order_by("number")
            .values_list("number", "issue_date")
        )
        assert [n for n, _ in issued] == list(range(1, len(issued) + 1))
        assert [d for _, d in issued] == sorted(d for _, d in issued)
        assert all(d <= today for _, d in issued)

        # A credit note, a refund, manual payments.
        [note] = Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE)
        assert note.credited_invoice.status == InvoiceStatus.PAID
        assert Refund.objects.filter(payment__invoice=note.credited_invoice).exists()
        assert Payment.objects.filter(method__in=MANUAL_METHODS).count() >= 6

        # Overdue ones, one charged the late fee (a separate invoice), a partial
        # one past due that stays partial.
        charged = invoices.filter(late_fee_invoice__isnull=False).select_related(
            "late_fee_invoice"
        )
        assert charged.exists()
        fee = charged[0].late_fee_invoice
        assert fee.lines.get().description.startswith(
            f"Late fee on {charged[0].display_number}"
        )
        assert invoices.filter(
            status=InvoiceStatus.PARTIAL, due_date__lt=today
        ).exists()
        assert not invoices.filter(
            status__in=(InvoiceStatus.SENT, InvoiceStatus.VIEWED), due_date__lt=today
        ).exists()

        # The recurring retainer and the invoices it made, the older ones paid.
        [recurring] = RecurringInvoice.objects.all()
        made = list(recurring.invoices.order_by("number"))
        assert len(made) >= 3
        assert made[0].status == InvoiceStatus.PAID
        assert recurring.next_date > today

        # Time: four months of it, some billed, some not yet.
        entries = TimeEntry.objects.all()
        assert entries.filter(invoice_line__isnull=False).exists()
        assert entries.filter(billable=True, invoice_line__isnull=True).exists()
        assert (today - entries.order_by("date").first().date).days >= 100
        people = entries.values("user").annotate(n=Count("id"))
        assert len(people) == 4

        # The portal's demo contact has an invoice to pay.
        clients = PortalGrant.objects.filter(contact__email=PORTAL_EMAIL).values(
            "client"
        )
        assert invoices.filter(
            client__in=clients, status__in=OPEN_INVOICE_STATUSES
        ).exists()
