"""Recurring invoices: set up, changed, paused, resumed and ended; and the run
that makes each due period's invoice once, issued and emailed or left as a
draft to review."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from advisoros.tenancy.db import tenant_context
from billing.models import (
    Invoice,
    InvoiceStatus,
    LineKind,
    RecurringInvoice,
    TimeEntry,
)
from billing.services.recurring import (
    MAX_PERIODS_PER_RUN,
    LineData,
    RecurringState,
    recurring_invoice_create,
    recurring_invoice_end,
    recurring_invoice_pause,
    recurring_invoice_resume,
    recurring_invoice_update,
    recurring_run_due,
    recurring_state,
)
from clients.models import ClientContact, ClientStatus, Contact, ContactRole
from tests.factories import make_recurring_invoice, make_retainer
from workflows.models import Notification

D = Decimal
JAN_1 = date(2027, 1, 1)


@pytest.fixture
def retainer(cast, jane):
    return make_retainer(jane, partner=cast.alice, manager=cast.mia)


@pytest.fixture
def billing_contact(cast, jane):
    with tenant_context(cast.alpha):
        contact = Contact.objects.create(
            organization=cast.alpha, first_name="Jane", email="jane@example.test"
        )
        ClientContact.objects.create(
            organization=cast.alpha,
            client=jane,
            contact=contact,
            role=ContactRole.BILLING,
        )
    return contact


def _run(org, today: date) -> int:
    with tenant_context(org):
        return recurring_run_due(organization=org, today=today)


def _invoices(org) -> list[Invoice]:
    with tenant_context(org):
        return list(
            Invoice.objects.filter(organization=org)
            .prefetch_related("lines")
            .order_by("pk")
        )


def _fresh(recurring: RecurringInvoice) -> RecurringInvoice:
    with tenant_context(recurring.organization):
        recurring.refresh_from_db()
    return recurring


# Setting one up -----------------------------------------------------------------------


def test_it_is_set_up_from_an_engagement_with_its_lines(cast, jane, retainer):
    recurring = make_recurring_invoice(
        retainer,
        cast.mia,
        next_date=JAN_1,
        lines=[("Bookkeeping", "1", "450"), ("Payroll runs", "2", "75.50")],
    )

    assert recurring.client_id == jane.pk
    assert recurring.created_by_id == cast.mia.pk
    with tenant_context(cast.alpha):
        assert [
            (line.position, line.description, line.quantity, line.unit_price)
            for line in recurring.lines.all()
        ] == [
            (0, "Bookkeeping", D("1"), D("450")),
            (1, "Payroll runs", D("2"), D("75.50")),
        ]
    assert recurring_state(recurring) == RecurringState.ACTIVE


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"next_date": date(2026, 12, 31)}, "next_date", "in the past"),
        ({"next_date": date(2027, 1, 30)}, "next_date", "1st to the 28th"),
        ({"end_date": date(2026, 12, 31), "next_date": JAN_1}, "end_date", "before"),
        ({"lines": []}, "__all__", "at least one line"),
        ({"cadence": "weekly"}, "cadence", "monthly, quarterly or yearly"),
    ],
)
def test_a_bad_set_up_is_refused_with_a_clear_message(
    cast, retainer, changes, field, message
):
    args = {
        "cadence": "monthly",
        "next_date": JAN_1,
        "lines": [LineData("Bookkeeping", D("1"), D("450"))],
        **changes,
    }
    with tenant_context(cast.alpha), pytest.raises(ValidationError) as refused:
        recurring_invoice_create(
            organization=cast.alpha,
            engagement=retainer,
            by=cast.mia,
            today=JAN_1,
            **args,
        )
    assert message in " ".join(refused.value.message_dict[field])


def test_a_negative_price_and_a_read_only_member_are_refused(cast, retainer):
    with tenant_context(cast.alpha):
        with pytest.raises(ValidationError, match="cannot be negative"):
            recurring_invoice_create(
                organization=cast.alpha,
                engagement=retainer,
                by=cast.mia,
                today=JAN_1,
                cadence="monthly",
                next_date=JAN_1,
                lines=[LineData("Refund", D("1"), D("-10"))],
            )
        with pytest.raises(ValidationError, match="Read-only"):
            recurring_invoice_create(
                organization=cast.alpha,
                engagement=retainer,
                by=cast.rita,
                today=JAN_1,
                cadence="monthly",
                next_date=JAN_1,
                lines=[LineData("Bookkeeping", D("1"), D("450"))],
            )
        assert not RecurringInvoice.objects.exists()


def test_another_firms_engagement_is_refused(cast, retainer):
    with tenant_context(cast.beta), pytest.raises(ValidationError):
        recurring_invoice_create(
            organization=cast.beta,
            engagement=retainer,
            by=None,
            today=JAN_1,
            cadence="monthly",
            next_date=JAN_1,
            lines=[LineData("Bookkeeping", D("1"), D("450"))],
        )


def test_an_update_replaces_the_lines_and_keeps_the_invoices_made(cast, retainer):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)
    _run(cast.alpha, JAN_1)

    with tenant_context(cast.alpha):
        recurring_invoice_update(
            recurring=recurring,
            by=cast.mia,
            today=date(2027, 1, 10),
            cadence="quarterly",
            next_date=date(2027, 2, 1),  # unchanged: the date the run moved it to
            lines=[LineData("Bookkeeping, quarterly", D("3"), D("400"))],
        )
    recurring = _fresh(recurring)
    assert recurring.cadence == "quarterly"
    with tenant_context(cast.alpha):
        assert [line.description for line in recurring.lines.all()] == [
            "Bookkeeping, quarterly"
        ]
    [made] = _invoices(cast.alpha)
    assert made.total == D("450.00")  # issued before the change: untouched


# The run -------------------------------------------------------------------------------


def test_a_due_period_is_issued_once_and_its_email_queued(
    cast, jane, retainer, billing_contact, django_capture_on_commit_callbacks
):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)

    assert _run(cast.alpha, date(2026, 12, 31)) == 0  # not yet
    with django_capture_on_commit_callbacks(execute=True):
        assert _run(cast.alpha, JAN_1) == 1
    assert _run(cast.alpha, JAN_1) == 0  # a retry, or the next hour's run
    assert _run(cast.alpha, date(2027, 1, 31)) == 0

    [invoice] = _invoices(cast.alpha)
    assert invoice.status == InvoiceStatus.SENT
    assert invoice.number == 1
    assert invoice.issue_date == JAN_1
    assert invoice.recurring_id == recurring.pk
    assert invoice.engagement_id == retainer.pk
    assert invoice.total == D("450.00")
    [line] = invoice.lines.all()
    assert (line.description, line.kind) == (
        "Bookkeeping – January 2027",
        LineKind.RETAINER,
    )
    assert _fresh(recurring).next_date == date(2027, 2, 1)
    [email] = mail.outbox
    assert email.to == ["jane@example.test"]
    assert "INV-00001" in email.subject


def test_each_run_makes_the_next_period_only(cast, retainer):
    make_recurring_invoice(retainer, cast.mia, next_date=date(2027, 1, 31))

    for day in (date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)):
        assert _run(cast.alpha, day) == 1
        assert _run(cast.alpha, day) == 0

    assert [i.issue_date for i in _invoices(cast.alpha)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    assert [i.number for i in _invoices(cast.alpha)] == [1, 2, 3]


def test_a_late_run_makes_one_invoice_per_missed_period_dated_today(cast, retainer):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)

    assert _run(cast.alpha, date(2027, 3, 10)) == 3  # January, February, March

    invoices = _invoices(cast.alpha)
    assert [i.lines.all()[0].description for i in invoices] == [
        "Bookkeeping – January 2027",
        "Bookkeeping – February 2027",
        "Bookkeeping – March 2027",
    ]
    assert {i.issue_date for i in invoices} == {date(2027, 3, 10)}
    assert _fresh(recurring).next_date == date(2027, 4, 1)


def test_a_long_outage_is_caught_up_over_several_runs(cast, retainer):
    make_recurring_invoice(retainer, cast.mia, next_date=date(2025, 1, 1))
    today = date(2027, 3, 10)  # 27 periods due

    assert _run(cast.alpha, today) == MAX_PERIODS_PER_RUN
    assert _run(cast.alpha, today) == MAX_PERIODS_PER_RUN
    assert _run(cast.alpha, today) == 3
    assert _run(cast.alpha, today) == 0


def test_it_stops_after_its_end_date(cast, retainer):
    recurring = make_recurring_invoice(
        retainer, cast.mia, next_date=JAN_1, end_date=date(2027, 2, 15)
    )

    assert _run(cast.alpha, date(2027, 6, 1)) == 2
    assert recurring_state(_fresh(recurring)) == RecurringState.ENDED


def test_unbilled_time_of_the_engagement_before_the_date_is_added(cast, jane, retainer):
    make_recurring_invoice(
        retainer, cast.mia, next_date=date(2027, 2, 1), include_unbilled_time=True
    )
    with tenant_context(cast.alpha):

        def entry(day, minutes, engagement=retainer, billable=True):
            return TimeEntry.objects.create(
                organization=cast.alpha,
                user=cast.sam,
                client=jane,
                engagement=engagement,
                date=day,
                minutes=minutes,
                billable=billable,
                rate=D("150"),
            )

        january = entry(date(2027, 1, 20), 90)
        on_the_day = entry(date(2027, 2, 1), 60)  # the next period's
        not_billable = entry(date(2027, 1, 21), 60, billable=False)
        elsewhere = entry(date(2027, 1, 22), 60, engagement=None)

    _run(cast.alpha, date(2027, 2, 1))

    [invoice] = _invoices(cast.alpha)
    assert invoice.total == D("450.00") + D("225.00")  # the fee and 1.5 h at 150
    with tenant_context(cast.alpha):
        billed = set(
            TimeEntry.objects.filter(invoice_line__invoice=invoice).values_list(
                "pk", flat=True
            )
        )
    assert billed == {january.pk}
    assert not {on_the_day.pk, not_billable.pk, elsewhere.pk} & billed


def test_time_only_with_nothing_to_bill_makes_no_invoice_and_moves_on(cast, retainer):
    recurring = make_recurring_invoice(
        retainer, cast.mia, next_date=JAN_1, lines=[], include_unbilled_time=True
    )

    assert _run(cast.alpha, JAN_1) == 0

    assert _invoices(cast.alpha) == []
    assert _fresh(recurring).next_date == date(2027, 2, 1)


def test_a_draft_to_review_notifies_the_partner_manager_and_creator(
    cast, retainer, django_capture_on_commit_callbacks
):
    make_recurring_invoice(
        retainer, cast.sam, next_date=JAN_1, issue_automatically=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert _run(cast.alpha, JAN_1) == 1

    [invoice] = _invoices(cast.alpha)
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.number is None
    assert mail.outbox == []
    with tenant_context(cast.alpha):
        notices = list(Notification.objects.order_by("user__email"))
    assert [n.user for n in notices] == [cast.alice, cast.mia, cast.sam]
    assert {n.kind for n in notices} == {Notification.Kind.REVIEW}
    assert notices[0].title == (
        "Recurring invoice for Jane Doe, January 2027 (450.00 USD): a draft to review"
    )
    assert notices[0].url.startswith("/o/alpha/billing/recurring/")


def test_an_invoice_for_nothing_stays_a_draft_and_says_why(cast, retainer):
    make_recurring_invoice(
        retainer, cast.mia, next_date=JAN_1, lines=[("Courtesy review", "1", "0")]
    )

    assert _run(cast.alpha, JAN_1) == 1

    [invoice] = _invoices(cast.alpha)
    assert invoice.status == InvoiceStatus.DRAFT
    with tenant_context(cast.alpha):
        titles = {n.title for n in Notification.objects.all()}
    assert titles == {
        "Recurring invoice for Jane Doe, January 2027: a draft to review. Not "
        "issued: An invoice for nothing cannot be issued."
    }


def test_an_archived_clients_periods_pass_unbilled(cast, jane, retainer):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)
    with tenant_context(cast.alpha):
        type(jane).objects.filter(pk=jane.pk).update(status=ClientStatus.ARCHIVED)

    assert _run(cast.alpha, date(2027, 2, 1)) == 0

    assert _invoices(cast.alpha) == []
    assert _fresh(recurring).next_date == date(2027, 3, 1)


def test_another_firms_run_makes_nothing_of_ours(cast, retainer):
    make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)

    assert _run(cast.beta, JAN_1) == 0
    assert _invoices(cast.alpha) == []


# Pause, resume, end --------------------------------------------------------------------


def test_a_paused_one_makes_nothing_and_resuming_skips_the_paused_periods(
    cast, retainer
):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)
    with tenant_context(cast.alpha):
        recurring_invoice_pause(recurring=recurring, by=cast.mia)
    assert _run(cast.alpha, date(2027, 3, 10)) == 0
    assert recurring_state(_fresh(recurring)) == RecurringState.PAUSED

    with tenant_context(cast.alpha):
        resumed = recurring_invoice_resume(
            recurring=recurring, by=cast.mia, today=date(2027, 3, 10)
        )

    assert resumed.next_date == date(2027, 4, 1)  # January to March not billed
    assert _run(cast.alpha, date(2027, 3, 10)) == 0
    assert _run(cast.alpha, date(2027, 4, 1)) == 1


def test_resuming_one_that_is_not_paused_changes_nothing(cast, retainer):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)

    with tenant_context(cast.alpha):
        recurring_invoice_resume(
            recurring=recurring, by=cast.mia, today=date(2027, 2, 10)
        )

    assert _fresh(recurring).next_date == JAN_1  # its due periods stay due
    assert _run(cast.alpha, date(2027, 2, 10)) == 2


def test_ending_stops_it_and_resuming_needs_a_later_end_date(cast, retainer):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)
    _run(cast.alpha, JAN_1)

    with tenant_context(cast.alpha):
        ended = recurring_invoice_end(recurring=recurring, by=cast.mia)
        assert ended.end_date == date(2027, 1, 31)
        assert recurring_state(ended) == RecurringState.ENDED
        with pytest.raises(ValidationError, match="ended"):
            recurring_invoice_resume(
                recurring=recurring, by=cast.mia, today=date(2027, 1, 10)
            )
    assert _run(cast.alpha, date(2027, 5, 1)) == 0
    assert len(_invoices(cast.alpha)) == 1

    with tenant_context(cast.alpha):
        recurring_invoice_update(
            recurring=recurring,
            by=cast.mia,
            today=date(2027, 1, 10),
            cadence="monthly",
            next_date=date(2027, 2, 1),
            end_date=None,
            lines=[LineData("Bookkeeping", D("1"), D("450"))],
        )
        recurring_invoice_resume(
            recurring=recurring, by=cast.mia, today=date(2027, 1, 10)
        )
    assert _run(cast.alpha, date(2027, 2, 1)) == 1


def test_the_next_date_of_an_update_cannot_be_in_the_past(cast, retainer):
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=JAN_1)

    with tenant_context(cast.alpha), pytest.raises(ValidationError, match="past"):
        recurring_invoice_update(
            recurring=recurring,
            by=cast.mia,
            today=date(2027, 1, 10),
            cadence="monthly",
            next_date=date(2027, 1, 5),
            lines=[LineData("Bookkeeping", D("1"), D("450"))],
        )


def test_todays_date_is_the_earliest_next_date(cast, retainer):
    today = date(2027, 1, 10)
    recurring = make_recurring_invoice(retainer, cast.mia, next_date=today, today=today)
    assert recurring.next_date == today
    with pytest.raises(ValidationError, match="past"):
        make_recurring_invoice(
            retainer, cast.mia, next_date=today - timedelta(days=1), today=today
        )
