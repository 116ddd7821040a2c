"""Demo billing for "Demo CPA" (registered with seed_demo, after the clients',
documents' and workflows' seeders).

What it leaves, relative to the firm's today:

- the firm's billing rules (30-day terms, reminders 3, 14 and 30 days after the
  due date, a 1.5% late fee 30 days after it) and a billing and cost rate for
  each member who bills;
- about four months of time by the four demo staff across eight clients and
  their engagements: the older time billed, the last weeks unbilled (work in
  progress), the bookkeeping client's time non-billable (its retainer covers it);
- invoices in every status: paid, partly paid, overdue (one charged the late
  fee, itself a separate invoice), void, viewed, sent, drafts; manual payments
  by check and wire, a refund, and a credit note;
- a monthly bookkeeping retainer billed by a recurring invoice from the first
  of the month three months ago: its invoices are made by the recurring
  service, as the daily job would have made them, the older ones paid;
- an open invoice for the household whose contact is the portal's demo login
  (client@demo.test, portal/demo.py: the first active household by client
  code), so the portal has something to pay.

Everything goes through the billing services, in the order of its dates, so
invoice numbers follow the issue dates and totals, balances and statuses are
what the services make of them. Where a service takes a date (an issue date, a
payment's received date, the recurring run's today) it is given the past date;
the timestamps no service takes (created, issued, viewed, voided at) are moved
back to the same day afterwards, for the lists' sake. Credit notes and refunds
are dated today (their services date them). Time entries are written directly
(time-recording services are another part of the app), in 6-minute multiples,
so the firm's rounding rule leaves them as they are.

It does nothing when the firm already has invoices (seed_demo may run again).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.demo import register_demo_seeder
from advisoros.tenancy.models import Membership, Organization
from billing.models import (
    BillingSettings,
    Invoice,
    InvoiceKind,
    MemberRate,
    Payment,
    PaymentMethod,
    RecurringInvoice,
    TimeEntry,
    money,
)
from billing.selectors import billing_settings
from billing.services.invoices import (
    credit_note_create,
    invoice_add_line,
    invoice_add_time,
    invoice_create,
    invoice_issue,
    invoice_mark_viewed,
    invoice_void,
)
from billing.services.overdue import late_fees_charge, overdue_invoices_mark
from billing.services.payments import payment_record, payment_refund
from billing.services.recurring import (
    LineData,
    recurring_invoice_create,
    recurring_run_due,
)
from clients.demo import ADMIN, DEMO_SLUG, MANAGER, OWNER, STAFF
from clients.models import (
    CLOSED_ENGAGEMENT_STATUSES,
    Client,
    ClientStatus,
    Engagement,
    EngagementType,
    EntityType,
)

D = Decimal
# Billing and cost rates per hour.
RATES = {
    OWNER: (D("300.00"), D("120.00")),
    ADMIN: (D("225.00"), D("90.00")),
    MANAGER: (D("190.00"), D("75.00")),
    STAFF: (D("125.00"), D("45.00")),
}
# Clients with recorded time, and how often each gets an entry (a weight).
TIME_CLIENTS = {
    "Northwind Logistics": 5,
    "Meridian Manufacturing": 5,
    "Bright Smile Dental": 3,
    "Lumen Biotech": 3,
    "Harborview Hospitality Group": 3,
    "Granite Peak Medical Group": 3,
    "Blue Harbor Coffee": 2,  # on a retainer: its time is not billed by the hour
}
RETAINER_CLIENT = "Blue Harbor Coffee"
WORK = {
    EngagementType.BOOKKEEPING: [
        "Bank and card reconciliations",
        "Month-end journal entries",
        "Accounts payable review",
    ],
    EngagementType.PAYROLL: [
        "Payroll run and tax deposits",
        "Quarterly 941 preparation",
        "New hire setup",
    ],
    EngagementType.ADVISORY: [
        "Cash-flow forecast update",
        "Pricing analysis for the board",
        "Call with the CFO on financing",
    ],
    EngagementType.AUDIT: [
        "Inventory observation planning",
        "Revenue testing",
        "Internal control walkthroughs",
    ],
    EngagementType.REVIEW: ["Analytical procedures", "Inquiries with management"],
    EngagementType.BUSINESS_TAX: [
        "Tax return workpapers",
        "Depreciation schedules",
        "State apportionment",
    ],
}
OTHER_WORK = ["Client call", "Document review", "Research and memo"]
MINUTES = [18, 30, 42, 48, 60, 72, 90, 102, 120, 150, 180]
DAYS = 120  # how far back the time goes
ONE = D("1")


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@register_demo_seeder
def seed_demo_billing(
    *, organization: Organization, people: dict[str, User], stdout=None
) -> None:
    """Runs inside the firm's context; does nothing when the firm has invoices."""
    if organization.slug != DEMO_SLUG:
        return
    if Invoice.objects.filter(organization=organization).exists():
        return
    if not Client.objects.filter(organization=organization).exists():
        return
    with transaction.atomic():
        counts = _seed(organization, people)
    if stdout is not None:
        stdout.write(
            "  Demo billing: {entries} time entries, {invoices} invoices and "
            "{credit_notes} credit note, {payments} payments, {recurring} "
            "recurring invoice".format(**counts)
        )


def _seed(organization: Organization, people: dict[str, User]) -> dict[str, int]:
    today = firm_today(organization)
    _settings(organization)
    rates = _rates(organization, people)
    clients = {
        c.display_name: c
        for c in Client.objects.filter(organization=organization).exclude(
            status=ClientStatus.ARCHIVED
        )
    }
    household = _household(organization)
    entries = _time(organization, people, rates, clients, today)
    book = _Book(organization, people, today)
    _plan(book, clients, household, today)
    book.run()
    # What the daily job would have done by now (reminders it sends itself).
    overdue_invoices_mark(organization=organization, today=today)
    late_fees_charge(organization=organization, today=today)
    invoices = Invoice.objects.filter(organization=organization)
    return {
        "entries": entries,
        "invoices": invoices.filter(kind=InvoiceKind.INVOICE).count(),
        "credit_notes": invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count(),
        "payments": Payment.objects.filter(organization=organization).count(),
        "recurring": RecurringInvoice.objects.filter(organization=organization).count(),
    }


def _settings(organization: Organization) -> BillingSettings:
    rules = billing_settings(organization)
    rules.payment_terms_days = 30
    rules.reminder_days = "3,14,30"
    rules.late_fee_percent = D("1.50")
    rules.late_fee_after_days = 30
    rules.invoice_footer = (
        "Pay online from the client portal, or by check to Demo CPA, "
        "100 Main Street, Springfield, IL 62701. Thank you!"
    )
    rules.save()
    return rules


def _rates(
    organization: Organization, people: dict[str, User]
) -> dict[int, tuple[Decimal, Decimal]]:
    """Each billing member's rates, by user id."""
    memberships = {
        m.user_id: m
        for m in Membership.objects.filter(
            organization=organization, user__in=[people[e] for e in RATES]
        )
    }
    found = {}
    for email, (billing, cost) in RATES.items():
        membership = memberships[people[email].pk]
        rate, _ = MemberRate.objects.get_or_create(
            organization=organization,
            membership=membership,
            defaults={"billing_rate": billing, "cost_rate": cost},
        )
        found[membership.user_id] = (rate.billing_rate, rate.cost_rate)
    return found


def _household(organization: Organization) -> Client | None:
    """The client whose contact is the portal's demo login: portal/demo.py picks
    the first active household by client code (the portal's seeder runs after
    this one, so it is found the same way)."""
    return (
        Client.objects.filter(
            organization=organization,
            status=ClientStatus.ACTIVE,
            entity_type=EntityType.INDIVIDUAL,
        )
        .order_by("client_code")
        .first()
    )


def _open_engagements(client: Client) -> list[Engagement]:
    return list(
        Engagement.objects.filter(organization_id=client.organization_id, client=client)
        .exclude(status__in=CLOSED_ENGAGEMENT_STATUSES)
        .order_by("id")
    )


def _time(
    organization: Organization,
    people: dict[str, User],
    rates: dict[int, tuple[Decimal, Decimal]],
    clients: dict[str, Client],
    today: date,
) -> int:
    """Up to two entries a weekday for each billing member over the last
    DAYS days, at their rates, among the TIME_CLIENTS (seeded: the same every
    run)."""
    rng = random.Random(13)  # noqa: S311 (demo data, not a secret)
    names = [n for n in TIME_CLIENTS if n in clients]
    weights = [TIME_CLIENTS[n] for n in names]
    engagements = {n: _open_engagements(clients[n]) for n in names}
    rows = []
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for email in RATES:
            user = people[email]
            for _ in range(rng.choice((0, 1, 1, 2))):
                name = rng.choices(names, weights)[0]
                options = engagements[name]
                engagement = rng.choice(options) if options else None
                work = WORK.get(engagement.engagement_type if engagement else "", [])
                minutes = rng.choice(MINUTES)
                billing, cost = rates[user.pk]
                billable = name != RETAINER_CLIENT and rng.random() > 0.08
                rows.append(
                    TimeEntry(
                        organization=organization,
                        user=user,
                        client=clients[name],
                        engagement=engagement,
                        date=day,
                        minutes=minutes,
                        recorded_minutes=minutes - rng.randint(0, 5),
                        description=rng.choice(work or OTHER_WORK),
                        billable=billable,
                        rate=billing,
                        cost_rate=cost,
                    )
                )
    TimeEntry.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


class _Book:
    """The billing events of the demo, run in the order of their dates (so
    invoice numbers follow issue dates)."""

    def __init__(
        self, organization: Organization, people: dict[str, User], today: date
    ):
        self.organization = organization
        self.today = today
        self.owner = people[OWNER]
        self.manager = people[MANAGER]
        self.staff = people[STAFF]
        self.invoices: dict[str, Invoice] = {}
        self._events: list[tuple[date, int, Callable[[], None]]] = []

    def on(self, day: date, action: Callable[[], None]) -> None:
        self._events.append((min(day, self.today), len(self._events), action))

    def run(self) -> None:
        for _, _, action in sorted(self._events, key=lambda e: (e[0], e[1])):
            action()

    def _fresh(self, key: str) -> Invoice:
        invoice = Invoice.objects.get(
            organization=self.organization, pk=self.invoices[key].pk
        )
        self.invoices[key] = invoice
        return invoice

    def _stamp(self, invoice: Invoice, day: date, **more: date) -> None:
        """Move the service-set timestamps back to the event's day."""
        fields = {"created_at": _aware(day), "updated_at": _aware(day)}
        if invoice.issued_at is not None:
            fields.update(issued_at=_aware(day), sent_at=_aware(day))
        fields.update({name: _aware(value, 15) for name, value in more.items()})
        Invoice.objects.filter(organization=self.organization, pk=invoice.pk).update(
            **fields
        )

    # Invoices ---------------------------------------------------------------------

    def from_time(
        self,
        key: str,
        client: Client | None,
        *,
        worked: tuple[int, int],
        issue: int | None,
        memo: str = "",
    ) -> None:
        """An invoice of the client's billable time from `worked[0]` to
        `worked[1]` days ago, issued `issue` days ago (None: a draft today)."""
        if client is None:
            return
        day = self.today - timedelta(days=issue or 0)

        def act():
            start = self.today - timedelta(days=worked[0])
            end = self.today - timedelta(days=worked[1])
            entries = list(
                TimeEntry.objects.filter(
                    organization=self.organization,
                    client=client,
                    billable=True,
                    invoice_line__isnull=True,
                    date__gte=start,
                    date__lt=end,
                )
            )
            if not entries:
                return
            invoice = invoice_create(
                organization=self.organization,
                client=client,
                by=self.manager,
                memo=memo,
            )
            invoice_add_time(
                invoice=invoice,
                by=self.manager,
                entries=entries,
                group_by_engagement=True,
            )
            self._issue(key, invoice, day, issue)

        self.on(day, act)

    def fee(
        self,
        key: str,
        client: Client | None,
        *,
        engagement: Engagement | None,
        lines: list[tuple[str, Decimal]],
        issue: int | None,
    ) -> None:
        """A fixed-fee invoice issued `issue` days ago (None: a draft today)."""
        if client is None:
            return
        day = self.today - timedelta(days=issue or 0)

        def act():
            invoice = invoice_create(
                organization=self.organization,
                client=client,
                engagement=engagement,
                by=self.manager,
            )
            for description, price in lines:
                invoice_add_line(
                    invoice=invoice,
                    by=self.manager,
                    description=description,
                    quantity=D("1"),
                    unit_price=price,
                    engagement=engagement,
                )
            self._issue(key, invoice, day, issue)

        self.on(day, act)

    def _issue(self, key: str, invoice: Invoice, day: date, issue: int | None) -> None:
        if issue is not None:
            invoice = invoice_issue(invoice=invoice, by=self.manager, issue_date=day)
        self.invoices[key] = invoice
        self._stamp(invoice, day)

    # What happens to them ------------------------------------------------------------

    def pay(
        self,
        key: str,
        *,
        days_ago: int,
        method: str,
        share: Decimal = ONE,
        reference: str = "",
    ) -> None:
        """A payment of `share` of what the invoice still owes."""
        day = self.today - timedelta(days=days_ago)

        def act():
            if key not in self.invoices:
                return
            invoice = self._fresh(key)
            payment_record(
                invoice=invoice,
                by=self.staff,
                amount=money(invoice.balance * share),
                method=method,
                received_on=day,
                reference=reference,
            )

        self.on(day, act)

    def view(self, key: str, *, days_ago: int) -> None:
        day = self.today - timedelta(days=days_ago)

        def act():
            if key not in self.invoices:
                return
            invoice = invoice_mark_viewed(invoice=self._fresh(key))
            Invoice.objects.filter(
                organization=self.organization, pk=invoice.pk
            ).update(viewed_at=_aware(day, 19))

        self.on(day, act)

    def void(self, key: str, *, days_ago: int, reason: str) -> None:
        day = self.today - timedelta(days=days_ago)

        def act():
            if key not in self.invoices:
                return
            invoice = invoice_void(
                invoice=self._fresh(key), by=self.owner, reason=reason
            )
            Invoice.objects.filter(
                organization=self.organization, pk=invoice.pk
            ).update(voided_at=_aware(day, 15))

        self.on(day, act)

    def adjust_after_payment(self, key: str, *, share: Decimal, reason: str) -> None:
        """Today: part of a paid invoice given back (a refund of the payment)
        and no longer owed (a credit note): it ends paid, for less."""

        def act():
            if key not in self.invoices:
                return
            invoice = self._fresh(key)
            payment = (
                Payment.objects.filter(organization=self.organization, invoice=invoice)
                .order_by("-amount")
                .first()
            )
            if payment is None:
                return
            amount = money(invoice.total * share)
            payment_refund(payment=payment, by=self.owner, amount=amount, reason=reason)
            credit_note_create(
                invoice=self._fresh(key), by=self.owner, amount=amount, reason=reason
            )

        self.on(self.today, act)

    def recurring(self, engagement: Engagement | None, *, periods: int) -> None:
        """A monthly recurring invoice from the first of the month `periods`
        months ago; each period's run on its date; the older invoices paid."""
        if engagement is None or engagement.fee_amount is None:
            return
        first = self.today.replace(day=1) - relativedelta(months=periods)

        def create():
            recurring_invoice_create(
                organization=self.organization,
                engagement=engagement,
                by=self.manager,
                cadence="monthly",
                next_date=first,
                today=first,
                lines=[
                    LineData(
                        description="Monthly bookkeeping and bank reconciliations",
                        quantity=D("1"),
                        unit_price=engagement.fee_amount,
                        taxable=False,
                    )
                ],
                memo="Thank you for your business.",
            )

        self.on(first, create)
        for n in range(periods + 1):
            day = first + relativedelta(months=n)
            if day > self.today:
                break
            key = f"recurring-{n}"

            def run(day=day, key=key):
                recurring_run_due(organization=self.organization, today=day)
                made = Invoice.objects.filter(
                    organization=self.organization,
                    recurring__isnull=False,
                    issue_date=day,
                ).first()
                if made is not None:
                    self.invoices[key] = made
                    self._stamp(made, day)

            self.on(day, run)
            if n < periods - 1:  # the older periods are paid
                self.pay(
                    key,
                    days_ago=(self.today - day).days - 12,
                    method=PaymentMethod.CHECK,
                    reference=f"Check {4100 + n}",
                )


def _engagement(client: Client | None, *types: str) -> Engagement | None:
    if client is None:
        return None
    found = [
        e for e in _open_engagements(client) if not types or e.engagement_type in types
    ]
    return found[0] if found else None


def _plan(
    book: _Book, clients: dict[str, Client], household: Client | None, today: date
) -> None:
    get = clients.get
    tax = (EngagementType.BUSINESS_TAX, EngagementType.INDIVIDUAL_TAX)
    # Paid: Northwind's oldest time, by wire.
    book.from_time(
        "northwind-1", get("Northwind Logistics"), worked=(DAYS, 91), issue=88
    )
    book.pay(
        "northwind-1", days_ago=70, method=PaymentMethod.WIRE, reference="Wire 0193"
    )
    # Paid by check, then 10% given back today: a refund and a credit note.
    book.from_time(
        "meridian-1", get("Meridian Manufacturing"), worked=(DAYS, 91), issue=86
    )
    book.pay(
        "meridian-1", days_ago=60, method=PaymentMethod.CHECK, reference="Check 20817"
    )
    book.adjust_after_payment(
        "meridian-1",
        share=D("0.10"),
        reason="Courtesy adjustment agreed with the CFO for the inventory recount",
    )
    # Paid: the household's planning meeting (its history on the portal).
    household_tax = _engagement(household, *tax)
    book.fee(
        "household-1",
        household,
        engagement=None,
        lines=[("Year-end tax planning meeting", D("350.00"))],
        issue=100,
    )
    book.pay(
        "household-1", days_ago=85, method=PaymentMethod.CHECK, reference="Check 1147"
    )
    # Paid: Granite Peak's time, by wire.
    book.from_time(
        "granite-1", get("Granite Peak Medical Group"), worked=(DAYS, 61), issue=57
    )
    book.pay("granite-1", days_ago=35, method=PaymentMethod.WIRE, reference="Wire 7731")
    # Partly paid and past due: stays "partially paid".
    book.from_time("northwind-2", get("Northwind Logistics"), worked=(91, 61), issue=50)
    book.pay(
        "northwind-2",
        days_ago=25,
        method=PaymentMethod.CHECK,
        share=D("0.40"),
        reference="Check 5520",
    )
    # Overdue past the late fee's day: charged the fee (a separate invoice).
    cedar = get("Cedar Ridge Properties")
    cedar_tax = _engagement(cedar, *tax)
    book.fee(
        "cedar-1",
        cedar,
        engagement=cedar_tax,
        lines=[
            (
                f"{cedar_tax.name} preparation" if cedar_tax else "Tax preparation",
                cedar_tax.fee_amount
                if cedar_tax and cedar_tax.fee_amount
                else D("2400"),
            )
        ],
        issue=72,
    )
    # Overdue, not yet charged.
    book.from_time(
        "brightsmile-1", get("Bright Smile Dental"), worked=(DAYS, 45), issue=40
    )
    # Void.
    keystone = get("Keystone Plumbing & Heating")
    keystone_tax = _engagement(keystone, *tax)
    book.fee(
        "keystone-1",
        keystone,
        engagement=keystone_tax,
        lines=[("Quarterly bookkeeping review", D("850.00"))],
        issue=65,
    )
    book.void(
        "keystone-1",
        days_ago=64,
        reason="Issued in error: the review is covered by the engagement's fixed fee.",
    )
    # Viewed on the portal, not paid yet.
    book.from_time("lumen-1", get("Lumen Biotech"), worked=(50, 14), issue=12)
    book.view("lumen-1", days_ago=9)
    # Sent: the household's return, open on the portal for client@demo.test.
    book.fee(
        "household-2",
        household,
        engagement=household_tax,
        lines=[
            (
                f"{household_tax.name} preparation" if household_tax else "Tax return",
                household_tax.fee_amount
                if household_tax and household_tax.fee_amount
                else D("650.00"),
            ),
            ("State return", D("150.00")),
        ],
        issue=5,
    )
    # Drafts waiting for review.
    book.from_time(
        "harborview-draft",
        get("Harborview Hospitality Group"),
        worked=(45, 0),
        issue=None,
    )
    book.fee(
        "prairie-draft",
        get("Prairie Software"),
        engagement=None,
        lines=[
            ("Entity setup and S election", D("1200.00")),
            ("First-year advisory package", D("900.00")),
        ],
        issue=None,
    )
    # The bookkeeping retainer, billed monthly by a recurring invoice.
    book.recurring(
        _engagement(get(RETAINER_CLIENT), EngagementType.BOOKKEEPING), periods=3
    )
