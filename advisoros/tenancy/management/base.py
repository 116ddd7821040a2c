"""Management commands that work inside one firm.

`FirmCommand` takes `--firm SLUG` and runs `handle_firm` in that firm's
context (django-scopes scope and the RLS setting), so a command sees and
writes only that firm's rows, like a request or a background job.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization


class FirmCommand(BaseCommand):
    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--firm", required=True, help="The firm's slug (its /o/<slug>/ address)."
        )
        self.add_firm_arguments(parser)

    def add_firm_arguments(self, parser) -> None:
        """Extra arguments of the command."""

    def handle(self, *args, firm: str, **options):
        organization = Organization.objects.filter(slug=firm).first()
        if organization is None:
            raise CommandError(f"No firm with the address {firm!r}.")
        with tenant_context(organization):
            return self.handle_firm(organization, **options)

    def handle_firm(self, organization: Organization, **options):
        raise NotImplementedError
