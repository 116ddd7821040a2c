"""`flush`, run as the database owner role: the application role may not TRUNCATE.

Used by the tests' transactional cases and by operators resetting a database.
"""

from __future__ import annotations

from django.core.management.commands.flush import Command as DjangoFlush

from advisoros.tenancy.dbroles import as_owner


class Command(DjangoFlush):
    help = DjangoFlush.help + " Connects as DATABASE_OWNER_URL's role."

    def handle(self, **options):
        with as_owner(options["database"]):
            return super().handle(**options)
