"""Reminder emails for overdue requested documents: a cross-firm hourly job that
keeps to each firm's cadence and sends one email per contact per request."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.models import Task as QTask

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.tasks import run_in_organization
from clients.models import ClientContact, ContactRole
from documents.models import DocumentRequest, DocumentRequestItem, DocumentSettings
from documents.reminders import document_request_remind
from documents.services import requests as services
from documents.tasks_scheduled import document_request_reminders_send
from tests.documents.stored_documents import stored_document
from tests.factories import make_client, wait_for_lock_waiters

Item = DocumentRequestItem.Status
JOB = "documents.tasks_scheduled.document_request_reminders_job"


def _contact(client, first_name, email="", role=ContactRole.PRIMARY):
    from clients.models import Contact

    with tenant_context(client.organization):
        contact = Contact.objects.create(
            organization=client.organization,
            first_name=first_name,
            last_name="Doe",
            email=email,
        )
        ClientContact.objects.create(
            organization=client.organization, client=client, contact=contact, role=role
        )
    return contact


def _request(client, items: list[tuple[str, int | None]], *, by=None, title="2025"):
    """items: (title, due in days from the firm's today, or None)."""
    today = firm_today(client.organization)
    with tenant_context(client.organization):
        return services.document_request_create(
            client=client,
            title=title,
            message="Thank you for sending these quickly.",
            items=[
                {
                    "title": name,
                    "due_date": None if days is None else today + timedelta(days=days),
                }
                for name, days in items
            ],
            created_by=by,
        )


def _reminded(doc_request):
    with platform_bypass():
        return DocumentRequest.objects.values_list(
            "last_reminded_at", "reminder_count"
        ).get(pk=doc_request.pk)


def _set_reminded(doc_request, ago: timedelta):
    with platform_bypass():
        DocumentRequest.objects.filter(pk=doc_request.pk).update(
            last_reminded_at=timezone.now() - ago, reminder_count=1
        )


@pytest.fixture
def jane(jane):
    """The shared Jane, with an email address to be reminded at."""
    _contact(jane, "Jane", "jane@example.test")
    return jane


def test_one_email_per_contact_lists_all_the_overdue_items(cast, jane, run_schedule):
    spouse = _contact(jane, "John", "john@example.test", role=ContactRole.SPOUSE)
    with tenant_context(cast.alpha):  # linked twice: still one email
        ClientContact.objects.create(
            organization=cast.alpha,
            client=jane,
            contact=spouse,
            role=ContactRole.BILLING,
        )
    _contact(jane, "Nomail")  # no address: nobody to email
    doc_request = _request(
        jane,
        [("W-2", -3), ("1099-INT", -1), ("K-1", 10), ("Receipts", None)],
        by=cast.sam,
    )

    sent = run_schedule(document_request_reminders_send)

    assert sent == 2
    assert sorted(e.to[0] for e in mail.outbox) == [
        "jane@example.test",
        "john@example.test",
    ]
    email = next(e for e in mail.outbox if e.to == ["jane@example.test"])
    assert email.subject == "Alpha Accounting: 2 documents still needed for Jane Doe"
    assert email.reply_to == ["sam@alpha.test"]
    overdue, _, later = email.body.partition("Also still needed:")
    assert "- W-2 (due" in overdue
    assert "- 1099-INT (due" in overdue
    assert "K-1" in later and "Receipts" in later
    assert "Hello Jane," in email.body
    assert "Thank you for sending these quickly." in email.body
    last, count = _reminded(doc_request)
    assert last is not None and count == 1


def test_running_the_job_twice_in_a_row_sends_once(cast, jane, run_schedule):
    _request(jane, [("W-2", -1)])

    assert run_schedule(document_request_reminders_send) == 1
    assert run_schedule(document_request_reminders_send) == 0

    assert len(mail.outbox) == 1


def test_nothing_is_sent_for_items_not_yet_due_received_or_cancelled(
    cast, jane, run_schedule
):
    _request(jane, [("Due today", 0), ("Next week", 7), ("Undated", None)])
    received = _request(jane, [("W-2", -5)], title="Received")
    [item] = _items(received)
    with tenant_context(cast.alpha):
        services.document_request_item_attach(
            item=item, document=stored_document(jane), by=None
        )
    cancelled = _request(jane, [("1098", -5)], title="Cancelled")
    with tenant_context(cast.alpha):
        services.document_request_cancel(request=cancelled)

    assert run_schedule(document_request_reminders_send) == 0
    assert mail.outbox == []


def _items(doc_request):
    with tenant_context(doc_request.organization):
        return list(doc_request.items.order_by("position"))


def test_a_rejected_overdue_item_is_reminded_with_the_reason(cast, jane, run_schedule):
    doc_request = _request(jane, [("W-2", -2)])
    [item] = _items(doc_request)
    with tenant_context(cast.alpha):
        services.document_request_item_attach(
            item=item, document=stored_document(jane), by=None
        )
        services.document_request_item_reject(
            item=item, by=cast.sam, reason="This is the 2023 form."
        )

    assert run_schedule(document_request_reminders_send) == 1

    assert "We could not use what we received: This is the 2023 form." in (
        mail.outbox[0].body
    )


def test_the_firms_cadence_decides_when_the_next_reminder_goes(
    cast, jane, run_schedule
):
    doc_request = _request(jane, [("W-2", -20)])
    _set_reminded(doc_request, timedelta(days=6, hours=23))

    assert run_schedule(document_request_reminders_send) == 0  # default: every 7 days

    with tenant_context(cast.alpha):
        DocumentSettings.objects.update_or_create(
            organization=cast.alpha, defaults={"reminder_every_days": 3}
        )
    assert run_schedule(document_request_reminders_send) == 1

    last, count = _reminded(doc_request)
    assert count == 2
    assert timezone.now() - last < timedelta(minutes=1)


def test_a_reminder_goes_again_once_the_cadence_has_passed(cast, jane, run_schedule):
    doc_request = _request(jane, [("W-2", -20)])
    _set_reminded(doc_request, timedelta(days=7, minutes=1))

    assert run_schedule(document_request_reminders_send) == 1
    assert _reminded(doc_request)[1] == 2


def test_a_client_without_an_email_address_records_no_reminder(cast, run_schedule):
    client = make_client(cast.alpha, "No Email Inc")
    _contact(client, "Pat")
    doc_request = _request(client, [("Bank statements", -4)])

    assert run_schedule(document_request_reminders_send) == 0

    assert _reminded(doc_request) == (None, 0)


def test_each_firms_reminders_go_out_from_that_firm(cast, jane, run_schedule):
    beta_client = make_client(cast.beta, "Beta Client")
    _contact(beta_client, "Bea", "bea@example.test")
    _request(jane, [("W-2", -1)])
    _request(beta_client, [("Payroll reports", -1)], by=cast.oscar)

    assert run_schedule(document_request_reminders_send) == 2

    by_recipient = {e.to[0]: e for e in mail.outbox}
    beta = by_recipient["bea@example.test"]
    assert beta.subject == ("Beta Bookkeeping: 1 document still needed for Beta Client")
    assert "Payroll reports" in beta.body and "W-2" not in beta.body
    assert beta.reply_to == ["oscar@beta.test"]
    assert "Payroll reports" not in by_recipient["jane@example.test"].body


def test_the_schedule_queues_one_job_per_firm_with_overdue_items(
    cast, jane, django_capture_on_commit_callbacks
):
    _request(jane, [("W-2", -1)])
    beta_client = make_client(cast.beta, "Beta Client")
    _request(beta_client, [("Payroll reports", 3)])  # not due yet

    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert document_request_reminders_send() == 1

    assert len(queued) == 1
    [task] = QTask.objects.all()
    assert task.args == (JOB, cast.alpha.pk, {})
    assert task.result == 1


def test_a_firms_context_cannot_remind_another_firms_request(cast):
    beta_client = make_client(cast.beta, "Beta Client")
    _contact(beta_client, "Bea", "bea@example.test")
    beta_request = _request(beta_client, [("W-2", -1)])

    with tenant_context(cast.alpha):
        sent = document_request_remind(
            organization=cast.alpha,
            request_id=beta_request.pk,
            now=timezone.now(),
            cadence_days=7,
        )

    assert sent == 0
    assert mail.outbox == []
    assert _reminded(beta_request) == (None, 0)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_reminder(cast):
    jane = make_client(cast.alpha, "Jane Doe")
    _contact(jane, "Jane", "jane@example.test")
    doc_request = _request(jane, [("W-2", -1)])
    claimed, release = threading.Event(), threading.Event()
    results = {}

    def first_worker():
        # Claims and sends, then keeps its transaction open until released.
        try:
            with tenant_context(cast.alpha), transaction.atomic():
                results["first"] = document_request_remind(
                    organization=cast.alpha,
                    request_id=doc_request.pk,
                    now=timezone.now(),
                    cadence_days=7,
                )
                claimed.set()
                release.wait(15)
        finally:
            claimed.set()
            connection.close()

    def second_worker():
        claimed.wait(5)
        try:
            results["second"] = run_in_organization(JOB, cast.alpha.pk, {})
        finally:
            connection.close()

    threads = [
        threading.Thread(target=first_worker),
        threading.Thread(target=second_worker),
    ]
    for thread in threads:
        thread.start()
    # The second worker's claim waits on the row the first one claimed.
    waited = wait_for_lock_waiters(statement="UPDATE")
    release.set()
    for thread in threads:
        thread.join(15)

    assert waited
    assert results == {"first": 1, "second": 0}
    assert len(mail.outbox) == 1
    assert _reminded(doc_request)[1] == 1


def test_setup_schedules_adds_the_hourly_reminder_job(db):
    call_command("setup_schedules", stdout=io.StringIO())

    [schedule] = Schedule.objects.filter(
        func="documents.tasks_scheduled.document_request_reminders_send"
    )
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        Schedule.MINUTES,
        60,
        -1,
    )
