"""`manage.py lint_migrations`: refuse migrations that old code cannot survive
(advisoros.ops.migration_lint; .ci/run runs it after the makemigrations check)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.loader import MigrationLoader

from advisoros.ops.migration_lint import (
    BASELINE_FILE,
    LARGE_TABLES,
    baseline_read,
    project_migrations_findings,
)


def project_app_labels() -> set[str]:
    """Our own apps (not Django's or a package's): those inside the project
    folder and outside any virtualenv or site-packages."""
    base = Path(settings.BASE_DIR).resolve()
    labels = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and not {
            "site-packages",
            ".venv",
        } & set(path.parts):
            labels.add(config.label)
    return labels


class Command(BaseCommand):
    help = (
        "Refuse migrations newer than the baseline that break code still running "
        "during a rolling deploy (removed or renamed columns and tables, NOT NULL "
        "without a database default, index builds that lock large tables). "
        "A contract step says so with `contract = '<why>'` (docs/deploy.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--baseline",
            default=str(BASELINE_FILE),
            help="The file listing migrations that are not linted (app.name a line).",
        )
        parser.add_argument(
            "--large-table",
            action="append",
            default=[],
            help="A table to treat as large, besides the built-in list (repeatable).",
        )
        parser.add_argument(
            "--write-baseline",
            action="store_true",
            help="Write every migration of the project's apps now on disk into "
            "the baseline file, and lint nothing.",
        )

    def handle(self, *args, **options):
        baseline_path = Path(options["baseline"])
        labels = project_app_labels()
        if options["write_baseline"]:
            loader = MigrationLoader(None, ignore_no_migrations=True)
            names = sorted(
                f"{app}.{name}" for app, name in loader.disk_migrations if app in labels
            )
            baseline_path.write_text(
                "# Migrations that existed before the linter (not linted).\n"
                "# Rewritten by `manage.py lint_migrations --write-baseline`.\n"
                + "".join(f"{name}\n" for name in names)
            )
            self.stdout.write(f"Wrote {len(names)} migrations to {baseline_path}.")
            return
        findings, linted = project_migrations_findings(
            baseline=baseline_read(baseline_path),
            app_labels=labels,
            large_tables=LARGE_TABLES | frozenset(options["large_table"]),
        )
        for finding in findings:
            self.stdout.write(f"{finding.migration}: {finding.rule}: {finding.message}")
        if findings:
            raise CommandError(
                f"{len(findings)} step(s) would break code still running during a "
                "rolling deploy. Split them into expand and contract releases, or "
                "mark the contract step (docs/deploy.md, Migrations)."
            )
        self.stdout.write(
            f"{linted} migration(s) after the baseline, none breaks running code."
        )
