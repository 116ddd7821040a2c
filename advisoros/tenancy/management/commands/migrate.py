"""`migrate`, run as the database owner role (advisoros.tenancy.dbroles), timing
each migration it applies (advisoros.ops.models.MigrationTiming)."""

from __future__ import annotations

import time

from django.core.management.commands.migrate import Command as DjangoMigrate
from django.utils import timezone

from advisoros.ops.services import migration_timings_record
from advisoros.tenancy.dbroles import as_owner


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Connects as DATABASE_OWNER_URL's role."

    def handle(self, *args, **options):
        self._timings: list[tuple[str, str, object, float]] = []
        self._started = 0.0
        with as_owner(options["database"]):
            try:
                return super().handle(*args, **options)
            finally:
                # Also after a failure: the ones that did apply took their time.
                migration_timings_record(
                    timings=self._timings, using=options["database"]
                )

    def migration_progress_callback(self, action, migration=None, fake=False):
        if action == "apply_start":
            self._started = time.monotonic()
        elif action == "apply_success" and not fake:
            self._timings.append(
                (
                    migration.app_label,
                    migration.name,
                    timezone.now(),
                    time.monotonic() - self._started,
                )
            )
        super().migration_progress_callback(action, migration, fake)
