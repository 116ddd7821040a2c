"""A firm's full export from the command line: `export_firm SLUG [--out FILE]`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.export import (
    export_snapshot,
    firm_export_store,
    firm_export_write,
)
from advisoros.tenancy.models import FirmExport, Organization


class Command(BaseCommand):
    help = (
        "Export every record, file and the audit trail of a firm as one zip. "
        "With --out, write it to that file (tax ids in plain text: keep it safe); "
        "without, store it in the file store, where the firm's owners see it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="The firm's slug (its /o/<slug>/ address).")
        parser.add_argument("--out", help="Write the zip to this file.")

    def handle(self, *args, slug: str, out: str | None, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No firm with the address {slug!r}.")
        with tenant_context(organization):
            if out:
                path = Path(out)
                with path.open("wb") as handle, export_snapshot():
                    manifest = firm_export_write(organization=organization, out=handle)
                audit_event_record(
                    action=AuditAction.FIRM_EXPORTED,
                    organizations=[organization],
                    target="command line",
                    detail={"size": path.stat().st_size, "counts": manifest["counts"]},
                )
                self.stdout.write(
                    f"Wrote {path} ({path.stat().st_size} bytes, "
                    f"{sum(manifest['counts'].values())} rows, "
                    f"{len(manifest['members'])} members)."
                )
                return
            export = FirmExport.objects.create(organization=organization)
            export.status = FirmExport.Status.RUNNING
            firm_export_store(organization=organization, export=export)
            self.stdout.write(
                f"Stored {export.file.name} ({export.size} bytes, sha256 {export.sha256})."
            )
