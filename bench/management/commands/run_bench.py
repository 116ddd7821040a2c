"""`make bench`: seed the bench firms when missing, measure every registered page."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from advisoros.gc_tuning import gc_tune
from bench import harness as bench


class Command(BaseCommand):
    help = (
        "Make sure the firms bench-1k and bench-100k exist (seeding them the first"
        " time), then measure every registered scenario in both (server-side p50,"
        " p95, query count, 100k/1k ratio, ratio to Django's floor). Prints a table"
        " and writes var/bench/results.json. See bench/harness.py."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--only",
            default="",
            help="Run the scenarios whose name contains this (or, comma-separated,"
            " any of these).",
        )
        parser.add_argument(
            "--runs", type=int, default=bench.RUNS, help="Measured requests each."
        )
        parser.add_argument(
            "--no-pages",
            action="store_true",
            help="Skip the page scenarios (and the bench firms' seeding).",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Exit with an error when a target is missed.",
        )

    def handle(
        self, *args, only: str, runs: int, strict: bool, no_pages: bool, **options
    ):
        # The garbage collector as gunicorn's workers tune it once the
        # application is loaded (advisoros.gc_tuning): pages are measured as
        # production serves them.
        gc_tune()
        results = (
            [] if no_pages else bench.run(stdout=self.stdout, only=only, runs=runs)
        )
        extra = bench.run_measures(stdout=self.stdout, only=only)
        if not results and not extra:
            raise CommandError(f"No scenario matches {only!r}.")
        bench.report(results, stdout=self.stdout, extra=extra)
        self.stdout.write(f"Written to {bench.RESULTS}")
        missed = bench.misses(results, extra)
        if not missed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Targets met: p95 under {bench.TARGET_P95_MS:g} ms (or the"
                    " scenario's own), 100k/1k"
                    f" ratio under {bench.TARGET_RATIO:g}, same query counts."
                )
            )
            return
        for miss in missed:
            self.stdout.write(self.style.WARNING(f"Missed: {miss}"))
        if strict:
            raise CommandError(f"{len(missed)} target(s) missed.")
