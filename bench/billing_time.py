"""Benchmark of the time-entry week (the timesheet), registered from
bench/harness.py discover().

bench/billing_seed.py spreads a million time entries over the twenty bench
members of bench-100k (ten thousand in bench-1k): tens of thousands each, a few
hundred a week, which no person records. So the page is measured for one more
member, the timekeeper, who records what a busy person does in a week: nine
entries a day, Monday to Friday, over nine clients (45 entries, 37.5 hours), the
same week in both firms, amid everyone else's million. The owner (a manager)
opens the timekeeper's week. Target (issue 13): p95 under 25 ms at 1,000,000
entries, a 100k/1k ratio under 1.3, the same queries at both sizes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Max
from django.urls import reverse

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Membership, Role
from bench.harness import BenchFirm, register_bench_seeder, register_scenario
from billing.models import TimeEntry
from billing.time_selectors import week_start
from clients.models import Client

DAYS, PER_DAY = 5, 9
MINUTES = (30, 42, 54, 60, 66, 18, 24, 36, 30)  # 360 a day: 7.5 hours


def _timekeeper(firm: BenchFirm) -> Membership:
    email = f"timekeeper@{firm.organization.slug}.bench.test"
    user = User.objects.filter(email__iexact=email).first() or (
        User.objects.create_user(email, None, name="Tess Timekeeper")
    )
    member, _ = Membership.objects.get_or_create(
        organization=firm.organization, user=user, defaults={"role": Role.STAFF}
    )
    return member


@register_bench_seeder
def seed(*, firm: BenchFirm, stdout) -> None:
    organization = firm.organization
    with tenant_context(organization):
        member = _timekeeper(firm)
        if TimeEntry.objects.filter(
            organization=organization, user_id=member.user_id
        ).exists():
            return
        clients = list(
            Client.objects.filter(organization=organization).order_by("pk")[:PER_DAY]
        )
        monday = week_start(firm_today(organization)) - dt.timedelta(days=7)
        TimeEntry.objects.bulk_create(
            TimeEntry(
                organization=organization,
                user_id=member.user_id,
                client=clients[i % len(clients)],
                date=monday + dt.timedelta(days=day),
                minutes=MINUTES[i],
                recorded_minutes=MINUTES[i],
                description=f"Work for client {i + 1}",
                rate=Decimal("150"),
                cost_rate=Decimal("60"),
            )
            for day in range(DAYS)
            for i in range(PER_DAY)
        )
    stdout.write(
        f"{organization.slug}: the timekeeper's week of {DAYS * PER_DAY} entries"
    )


@register_scenario("time_entry_week")
def time_entry_week(firm: BenchFirm) -> str:
    """The timekeeper's full week, opened by the owner."""
    organization = firm.organization
    with tenant_context(organization):
        member = _timekeeper(firm)
        last = TimeEntry.objects.filter(
            organization=organization, user_id=member.user_id
        ).aggregate(last=Max("date"))["last"]
    path = reverse("billing:timesheet", kwargs={"org_slug": organization.slug})
    return f"{path}?week={week_start(last).isoformat()}&member={member.uuid}"
