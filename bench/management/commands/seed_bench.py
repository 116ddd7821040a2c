"""Create, or top up, a big firm for the benchmark: `manage.py seed_bench --firm bench-100k --clients 100000`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from advisoros.tenancy.db import tenant_context
from bench.clients_seed import seed_clients
from bench.harness import bench_firm_ensure


class Command(BaseCommand):
    help = (
        "Create the firm (with an owner and bench members when it has none) and top it"
        " up to --clients clients with contacts, engagements, notes, tags and search"
        " tokens, inserted in bulk. A firm that already has 1,000 clients gets 99,000"
        " more for --clients 100000."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--firm", required=True, help="The firm's slug.")
        parser.add_argument("--clients", type=int, required=True)
        parser.add_argument("--contacts-per-client", type=int, default=2)
        parser.add_argument("--engagements-per-client", type=int, default=2)
        parser.add_argument("--notes-per-client", type=int, default=2)
        parser.add_argument(
            "--members",
            type=int,
            default=20,
            help="Bench members to create when the firm has no one but its owner.",
        )

    def handle(self, *args, firm: str, clients: int, members: int, **options):
        if clients < 0 or members < 1:
            raise CommandError("--clients must be 0 or more and --members 1 or more.")
        bench = bench_firm_ensure(firm, members=members)
        with tenant_context(bench.organization):
            result = seed_clients(
                organization=bench.organization,
                clients=clients,
                contacts_per_client=options["contacts_per_client"],
                engagements_per_client=options["engagements_per_client"],
                notes_per_client=options["notes_per_client"],
                stdout=self.stdout,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{firm}: added {result.clients:,} clients, {result.contacts:,} contacts,"
                f" {result.engagements:,} engagements, {result.notes:,} notes,"
                f" {result.tokens:,} search tokens in {result.seconds:.1f} s."
            )
        )
