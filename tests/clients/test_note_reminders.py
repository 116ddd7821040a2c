"""Note reminders: a scheduled cross-firm job emails each due note's author once."""

from __future__ import annotations

import io
import socket
from datetime import timedelta

from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule
from django_q.models import Task as QTask

from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership
from clients.models import Note
from clients.services.notes import note_reminder_send
from clients.tasks import note_reminders_send

JOB = "clients.tasks.note_reminders_job"

SITE = "https://app.example.test"


def _note(client, author, body, *, remind_in: timedelta | None, **fields) -> Note:
    with tenant_context(client.organization):
        return Note.objects.create(
            organization=client.organization,
            client=client,
            author=author,
            body=body,
            remind_at=None if remind_in is None else timezone.now() + remind_in,
            **fields,
        )


def _reminded_at(note: Note):
    with platform_bypass():
        return Note.objects.values_list("reminded_at", flat=True).get(pk=note.pk)


@override_settings(SITE_URL=SITE)
def test_a_due_reminder_is_emailed_to_its_author_once(cast, jane, run_schedule):
    note = _note(
        jane,
        cast.sam,
        "Call about the extension\nShe is travelling until May.",
        remind_in=timedelta(minutes=-1),
        is_private=True,
    )

    first = run_schedule(note_reminders_send)
    second = run_schedule(note_reminders_send)

    assert (first, second) == (1, 0)
    [email] = mail.outbox
    assert email.to == ["sam@alpha.test"]
    assert email.subject == "Reminder: Jane Doe — Call about the extension"
    assert f"{SITE}/o/alpha/clients/{jane.uuid}/?tab=notes" in email.body
    assert "She is travelling until May." in email.body
    assert _reminded_at(note) is not None


def test_only_due_and_unsent_reminders_go_out(cast, jane, run_schedule):
    earlier = timezone.now() - timedelta(hours=1)
    _note(jane, cast.sam, "Later", remind_in=timedelta(hours=1))
    _note(jane, cast.sam, "No reminder", remind_in=None)
    _note(jane, cast.sam, "Sent", remind_in=timedelta(hours=-2), reminded_at=earlier)
    due = _note(jane, cast.alice, "Due now", remind_in=timedelta(seconds=-1))

    assert run_schedule(note_reminders_send) == 1

    assert [e.subject for e in mail.outbox] == ["Reminder: Jane Doe — Due now"]
    assert _reminded_at(due) is not None


def test_each_firms_reminders_go_out_in_that_firm(
    cast, jane, make_client, run_schedule
):
    beta_client = make_client(cast.beta, "Beta Client")
    alpha_note = _note(jane, cast.sam, "Alpha task", remind_in=timedelta(minutes=-5))
    beta_note = _note(
        beta_client, cast.oscar, "Beta task", remind_in=timedelta(minutes=-5)
    )

    assert run_schedule(note_reminders_send) == 2

    by_recipient = {e.to[0]: e for e in mail.outbox}
    assert (
        by_recipient["oscar@beta.test"].subject == "Reminder: Beta Client — Beta task"
    )
    assert (
        f"/o/beta/clients/{beta_client.uuid}/" in by_recipient["oscar@beta.test"].body
    )
    assert "Beta Bookkeeping" in by_recipient["oscar@beta.test"].body
    assert f"/o/alpha/clients/{jane.uuid}/" in by_recipient["sam@alpha.test"].body
    assert _reminded_at(alpha_note) and _reminded_at(beta_note)


def test_the_schedule_queues_one_job_per_firm_with_a_reminder_due(
    cast, jane, make_client, django_capture_on_commit_callbacks
):
    _note(jane, cast.sam, "Due", remind_in=timedelta(minutes=-1))
    _note(jane, cast.alice, "Also due", remind_in=timedelta(minutes=-2))
    _note(make_client(cast.beta, "Beta Client"), cast.oscar, "Later", remind_in=None)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert note_reminders_send() == 1  # Alpha only: Beta has nothing due

    assert len(queued) == 1
    [task] = QTask.objects.all()
    assert task.args == (JOB, cast.alpha.pk, {})
    assert task.result == 2


def test_a_reminder_that_cannot_be_sent_stays_due_and_the_job_goes_on(
    cast, jane, settings, run_schedule
):
    notes = [
        _note(jane, cast.sam, "First", remind_in=timedelta(minutes=-2)),
        _note(jane, cast.alice, "Second", remind_in=timedelta(minutes=-1)),
    ]
    with socket.socket() as probe:  # a local port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailers = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }

    assert run_schedule(note_reminders_send) == 0  # each one failed, none raised

    assert [_reminded_at(note) for note in notes] == [None, None]
    settings.MAILERS = mailers  # the mail server is back: the next run sends both
    assert run_schedule(note_reminders_send) == 2
    assert all(_reminded_at(note) for note in notes)


def test_a_firms_context_cannot_send_another_firms_reminder(cast, make_client):
    beta_note = _note(
        make_client(cast.beta, "Beta Client"),
        cast.oscar,
        "Beta task",
        remind_in=timedelta(minutes=-5),
    )

    with tenant_context(cast.alpha):
        sent = note_reminder_send(organization=cast.alpha, note_id=beta_note.pk)

    assert sent is False
    assert mail.outbox == []
    assert _reminded_at(beta_note) is None


def test_a_former_member_gets_no_email_and_the_reminder_is_spent(
    cast, jane, run_schedule
):
    note = _note(jane, cast.sam, "Sam left", remind_in=timedelta(minutes=-1))
    with platform_bypass():
        Membership.objects.filter(user=cast.sam).update(is_active=False)

    assert run_schedule(note_reminders_send) == 0

    assert mail.outbox == []
    assert _reminded_at(note) is not None


def test_setup_schedules_creates_the_reminder_schedule_once(db):
    first, second = io.StringIO(), io.StringIO()
    call_command("setup_schedules", stdout=first)
    call_command("setup_schedules", stdout=second)

    [schedule] = Schedule.objects.filter(func="clients.tasks.note_reminders_send")
    assert schedule.name == "note reminders"
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 5)
    assert schedule.repeats == -1
    assert any(
        line.startswith("Created schedule 'note reminders'")
        for line in first.getvalue().splitlines()
    )
    assert any(
        line.startswith("Unchanged schedule 'note reminders'")
        for line in second.getvalue().splitlines()
    )
