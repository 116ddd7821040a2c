"""Restore a firm export into an empty firm: `import_firm ZIP --into SLUG`."""

from __future__ import annotations

import hashlib

from django.core.management.base import BaseCommand, CommandError

from advisoros.tenancy.export import COPY_BLOCK
from advisoros.tenancy.firm_import import ImportRefused, firm_import


class Command(BaseCommand):
    help = (
        "Import a firm export (manage.py export_firm, or the owners' Export button) "
        "into a new or empty firm. Every checksum is verified first; a changed or "
        "damaged zip is refused with nothing written. All or nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("zip", help="The export's zip file.")
        parser.add_argument(
            "--into", required=True, help="The new firm's slug (made if missing)."
        )
        parser.add_argument(
            "--sha256",
            help="The zip's SHA-256 as the exports page shows it: checked first.",
        )

    def handle(self, *args, zip: str, into: str, sha256: str | None, **options):
        try:
            if sha256:
                digest = hashlib.sha256()
                with open(zip, "rb") as handle:
                    while block := handle.read(COPY_BLOCK):
                        digest.update(block)
                if digest.hexdigest() != sha256.lower():
                    raise ImportRefused("The zip's SHA-256 is not the one given.")
            organization, counts = firm_import(source=zip, slug=into)
        except (ImportRefused, OSError) as exc:
            raise CommandError(f"Import refused: {exc}") from exc
        self.stdout.write(
            f"Imported {sum(counts.values())} rows into {organization.name} "
            f"(/o/{organization.slug}/)."
        )
        for label, count in counts.items():
            self.stdout.write(f"  {label}: {count}")
