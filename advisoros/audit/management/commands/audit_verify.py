"""Check every firm's audit trail: the event chain, the change-log seals, and both
against the newest signed checkpoint in the file store (advisoros.audit.integrity)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from advisoros.audit.integrity import IntegrityReport, integrity_verify
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization


class Command(BaseCommand):
    help = (
        "Verify the audit trails (event chain, change-log seals, last checkpoint): "
        "of one firm (--firm SLUG) or of every firm and the platform. Exits non-zero "
        "when anything is wrong."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--firm", help="Only this firm's trail (its slug).")

    def handle(self, *args, firm: str | None = None, **options):
        # PLATFORM BYPASS: an operator's check across firms, read-only.
        with platform_bypass():
            if firm:
                organization = Organization.objects.filter(slug=firm).first()
                if organization is None:
                    raise CommandError(f"No firm with the address {firm!r}.")
                trails = [organization]
            else:
                trails = [*Organization.objects.order_by("pk"), None]
            broken = [
                report.name for report in map(self._check, trails) if not report.intact
            ]
        if broken:
            raise CommandError(
                f"{len(broken)} broken audit trail(s): {', '.join(broken)}."
            )

    def _check(self, organization: Organization | None) -> IntegrityReport:
        report = integrity_verify(organization=organization)
        name, events, seals, cp = (
            report.name,
            report.events,
            report.seals,
            report.checkpoint,
        )
        state = "chain intact" if events.intact else "chain BROKEN"
        self.stdout.write(f"{name}: {events.events} events, {state}")
        unsealed = (
            f"; {seals.unsealed_entries} entries not sealed yet"
            if seals.unsealed_entries
            else ""
        )
        state = "intact" if seals.intact else "BROKEN"
        self.stdout.write(
            f"{name}: change log {seals.sealed_entries} entries in {seals.seals} "
            f"seals, {state}{unsealed}"
        )
        if cp is None:
            self.stdout.write(f"{name}: no checkpoint yet")
        else:
            self.stdout.write(
                f"{name}: last checkpoint {cp.created_at or cp.name} "
                f"({cp.events} events, {cp.seals} seals)"
            )
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"{name}: BROKEN at {problem}"))
        if report.intact and cp is not None:
            self.stdout.write(f"{name}: the database matches the last checkpoint")
        return report
