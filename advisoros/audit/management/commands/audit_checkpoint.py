"""Write a signed checkpoint of every firm's audit trail now (the hourly job does
the same), e.g. after a restore or before an audit."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from advisoros.audit.integrity import checkpoint_create
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Seal the change log and write a signed checkpoint of the audit trail to the "
        "file store: of one firm (--firm SLUG) or of every firm and the platform."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--firm", help="Only this firm (its slug).")

    def handle(self, *args, firm: str | None = None, **options):
        with platform_bypass():  # PLATFORM BYPASS: list the firms
            firms = list(Organization.objects.order_by("pk"))
        if firm:
            firms = [o for o in firms if o.slug == firm]
            if not firms:
                raise CommandError(f"No firm with the address {firm!r}.")
        for organization in firms:
            with tenant_context(organization):
                checkpoint = checkpoint_create(organization=organization, force=True)
            self.stdout.write(f"{organization.name}: {checkpoint.name}")
        if not firm:
            with platform_bypass():  # PLATFORM BYPASS: the platform's own trail
                checkpoint = checkpoint_create(organization=None, force=True)
            self.stdout.write(f"Platform (no firm): {checkpoint.name}")
