"""Invite someone to a firm from the command line (support, or a firm whose owner left)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from advisoros.accounts.models import User
from advisoros.tenancy.management.base import FirmCommand
from advisoros.tenancy.models import Organization, Role
from advisoros.tenancy.services import invitation_create


class Command(FirmCommand):
    help = "Send an invitation to join a firm: --firm SLUG --email ADDRESS [--role ROLE] [--by EMAIL]."

    def add_firm_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.STAFF)
        parser.add_argument(
            "--by",
            help="Email of the member who invites (default: the platform, which may invite an owner).",
        )

    def handle_firm(self, organization: Organization, *, email, role, by, **options):
        inviter = None
        if by:
            inviter = User.objects.filter(email__iexact=by).first()
            if inviter is None:
                raise CommandError(f"No user {by}.")
        try:
            invitation = invitation_create(
                organization=organization,
                email=email,
                role=Role(role),
                invited_by=inviter,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"Invited {invitation.email} to {organization.name} as {invitation.get_role_display()}; "
            f"the link expires {invitation.expires_at:%Y-%m-%d}."
        )
