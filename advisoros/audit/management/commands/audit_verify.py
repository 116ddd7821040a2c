"""Check that every firm's security events still form an unbroken hash chain."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from advisoros.audit.chain import chain_verify
from advisoros.audit.models import AuditEvent
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization


class Command(BaseCommand):
    help = "Verify the audit hash chains: of one firm (--firm SLUG) or of every firm and the platform."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--firm", help="Only this firm's chain (its slug).")

    def handle(self, *args, firm: str | None = None, **options):
        # PLATFORM BYPASS: an operator's check across firms, read-only.
        with platform_bypass():
            if firm:
                organization = Organization.objects.filter(slug=firm).first()
                if organization is None:
                    raise CommandError(f"No firm with the address {firm!r}.")
                chains = [(organization.pk, organization.name)]
            else:
                names = dict(Organization.objects.values_list("pk", "name"))
                chains = [(pk, names[pk]) for pk in sorted(names)] + [
                    (None, "Platform (no firm)")
                ]
            broken = 0
            for org_id, name in chains:
                events = AuditEvent.objects.filter(organization_id=org_id).order_by(
                    F("sequence").asc(nulls_last=True), "id"
                )
                report = chain_verify(events.iterator(chunk_size=2000), org_id)
                if report.intact:
                    self.stdout.write(f"{name}: {report.events} events, chain intact")
                else:
                    broken += 1
                    self.stdout.write(
                        self.style.ERROR(f"{name}: BROKEN at {report.problem}")
                    )
        if broken:
            raise CommandError(f"{broken} broken chain(s).")
