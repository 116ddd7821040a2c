"""`manage.py seed_bench_documents`: the million documents of the search benchmark."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from bench.documents_seed import DOCUMENT_FIRMS, seed_document_firms


class Command(BaseCommand):
    help = (
        "Create, or top up, the search benchmark's firms: bench-docs-100k (120,000"
        " documents), bench-docs-10k (10,000) and eight bench-docs-fill-N firms, one"
        " million documents in all, with their members, clients and engagements"
        " (bench/documents_seed.py). A second run adds nothing. Takes minutes and"
        " about 4 GB of disk the first time; run it on a database of its own."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--only",
            default="",
            help="Seed only the firms whose slug contains this (e.g. 10k).",
        )

    def handle(self, *args, only: str, **options):
        firms = [firm for firm in DOCUMENT_FIRMS if only in firm[0]]
        started = time.perf_counter()
        added = seed_document_firms(stdout=self.stdout, firms=firms)
        self.stdout.write(
            self.style.SUCCESS(
                f"{added:,} documents added to {len(firms)} firms"
                f" in {time.perf_counter() - started:.0f} s."
            )
        )
