"""Create the demo firms and people. Idempotent; refuses to run with DEBUG off."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from advisoros.accounts.models import User
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.demo import demo_seeders
from advisoros.tenancy.models import Membership, Organization, Role

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (demo data, DEBUG only)
FIRMS = [
    (
        "demo",
        "Demo CPA",
        [
            ("owner@demo.test", "Olivia Owner", Role.OWNER),
            ("admin@demo.test", "Adam Admin", Role.ADMIN),
            ("manager@demo.test", "Maya Manager", Role.MANAGER),
            ("staff@demo.test", "Sam Staff", Role.STAFF),
            ("readonly@demo.test", "Rita Readonly", Role.READONLY),
        ],
    ),
    ("other", "Other Firm", [("owner@other.test", "Oscar Other", Role.OWNER)]),
]


class Command(BaseCommand):
    help = "Create the demo firms (Demo CPA, Other Firm) and their members. Safe to run again."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates known passwords: it runs only with DJANGO_DEBUG=true."
            )
        with transaction.atomic():
            for slug, name, people in FIRMS:
                org, _ = Organization.objects.get_or_create(
                    slug=slug, defaults={"name": name}
                )
                with tenant_context(org):
                    users = {}
                    for email, person, role in people:
                        user = User.objects.filter(email__iexact=email).first()
                        if user is None:
                            user = User.objects.create_user(
                                email, DEMO_PASSWORD, name=person
                            )
                        Membership.objects.update_or_create(
                            organization=org,
                            user=user,
                            defaults={"role": role, "is_active": True},
                        )
                        users[email] = user
                    # Each app adds its demo records (clients, documents, work).
                    for seeder in demo_seeders():
                        seeder(organization=org, people=users, stdout=self.stdout)
                self.stdout.write(
                    f"{name} (/o/{slug}/): {', '.join(p[0] for p in people)}"
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Password for every demo login: {DEMO_PASSWORD}"
            )
        )
