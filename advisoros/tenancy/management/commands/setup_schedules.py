"""Create, update or remove the django-q2 schedules the apps declare.

Idempotent: run on every start (`make run` does). Each app declares its
schedules in `<app>/schedules.py` (see advisoros.schedules). A schedule is keyed
by its function path: a renamed schedule is updated, not doubled, and a
schedule of ours (a repeating one whose function lives in one of the project's
apps) that no app declares any more is removed. One-off schedules (the delayed
retries of `enqueue_later` on a broker other than the ORM) are never touched.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django_q.models import Schedule

from advisoros.schedules import ScheduledJob, declared_schedules, project_app_names


class Command(BaseCommand):
    help = (
        "Create, update or remove the background schedules that the apps declare "
        "in their schedules.py. Safe to run again."
    )

    def handle(self, *args, **options):
        declared = declared_schedules()
        with transaction.atomic():
            for job in declared:
                self._install(job)
            self._remove_stale({job.func for job in declared})

    def _install(self, job: ScheduledJob) -> None:
        wanted = {
            "name": job.name,
            "schedule_type": Schedule.MINUTES,
            "minutes": job.minutes,
            "repeats": -1,
        }
        rows = list(Schedule.objects.filter(func=job.func).order_by("pk"))
        described = f"schedule {job.name!r}: {job.func} every {job.minutes} min."
        if not rows:
            Schedule.objects.create(func=job.func, **wanted)
            self.stdout.write(f"Created {described}")
            return
        schedule, doubles = rows[0], rows[1:]
        for double in doubles:  # one schedule per function, or it runs twice
            double.delete()
        changed = [f for f, v in wanted.items() if getattr(schedule, f) != v]
        if not changed and not doubles:
            self.stdout.write(f"Unchanged {described}")
            return
        for field, value in wanted.items():
            setattr(schedule, field, value)
        schedule.save()
        self.stdout.write(f"Updated {described}")

    def _remove_stale(self, declared_funcs: set[str]) -> None:
        ours = Q(pk__in=[])
        for name in project_app_names():
            ours |= Q(func__startswith=f"{name}.")
        stale = (
            Schedule.objects.filter(ours, schedule_type=Schedule.MINUTES)
            .exclude(func__in=declared_funcs)
            .order_by("pk")
        )
        for schedule in stale:
            schedule.delete()
            self.stdout.write(
                f"Removed schedule {schedule.name!r}: {schedule.func} "
                "(no app declares it any more)."
            )
