"""`migrate`, run as the database owner role (advisoros.tenancy.dbroles)."""

from __future__ import annotations

from django.core.management.commands.migrate import Command as DjangoMigrate

from advisoros.tenancy.dbroles import as_owner


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Connects as DATABASE_OWNER_URL's role."

    def handle(self, *args, **options):
        with as_owner(options["database"]):
            return super().handle(*args, **options)
