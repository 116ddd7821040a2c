"""`manage.py setup_schedules`: each app's declared schedules, installed once."""

from __future__ import annotations

import io

from django.core.management import call_command
from django_q.models import Schedule

from advisoros.schedules import declared_schedules


def _setup() -> str:
    out = io.StringIO()
    call_command("setup_schedules", stdout=out)
    return out.getvalue()


def _rows() -> list[dict]:
    return list(Schedule.objects.order_by("func").values())


def test_it_creates_the_schedules_each_app_declares(db):
    output = _setup()

    installed = {
        s.func: (s.name, s.schedule_type, s.minutes, s.repeats)
        for s in Schedule.objects.all()
    }
    assert installed == {
        job.func: (job.name, Schedule.MINUTES, job.minutes, -1)
        for job in declared_schedules()
    }
    apps = {func.rsplit(".", 2)[0] for func in installed}
    assert apps == {
        "clients",
        "documents",
        "workflows",
        "billing",
        "reports",
        "advisoros.accounts",
        "advisoros.audit",
        "advisoros.tenancy",
        "integrations.stripe",
        "integrations.quickbooks",
    }
    assert output.count("Created schedule") == len(installed)


def test_a_second_run_changes_nothing(db):
    _setup()
    before = _rows()

    output = _setup()

    assert _rows() == before
    assert "Created" not in output and "Updated" not in output
    assert output.count("Unchanged schedule") == len(before)


def test_a_changed_schedule_is_put_back_and_a_double_removed(db):
    _setup()
    func = "clients.tasks.note_reminders_send"
    Schedule.objects.filter(func=func).update(minutes=30, name="old name")
    Schedule.objects.create(func=func, schedule_type=Schedule.MINUTES, minutes=5)

    output = _setup()

    [schedule] = Schedule.objects.filter(func=func)
    assert (schedule.name, schedule.minutes) == ("note reminders", 5)
    assert "Updated schedule 'note reminders'" in output


def test_only_our_own_schedules_that_no_app_declares_are_removed(db):
    _setup()
    stale = Schedule.objects.create(
        name="old reminders",
        func="clients.tasks.reminders_of_old",
        schedule_type=Schedule.MINUTES,
        minutes=5,
    )
    foreign = Schedule.objects.create(
        func="django.core.management.call_command",
        schedule_type=Schedule.MINUTES,
        minutes=60,
    )
    retry = Schedule.objects.create(  # a delayed retry (enqueue_later, no ORM)
        func="advisoros.tenancy.tasks.run_in_organization",
        schedule_type=Schedule.ONCE,
        repeats=-1,
    )

    output = _setup()

    remaining = set(Schedule.objects.values_list("pk", flat=True))
    assert stale.pk not in remaining
    assert {foreign.pk, retry.pk} <= remaining
    assert "Removed schedule 'old reminders'" in output
