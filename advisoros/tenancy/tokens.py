"""The signed token in an invitation link.

Below both `services` (which invites) and `tasks` (which emails the link), so
neither has to import the other for it.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from advisoros.tenancy.models import Invitation

INVITATION_SALT = "advisoros.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"i": str(invitation.uuid), "o": invitation.organization_id},
        salt=INVITATION_SALT,
    )


def invitation_from_token(token: str) -> tuple[int, str]:
    """(organization id, invitation uuid) from a link; BadSignature/SignatureExpired if forged or old."""
    max_age = settings.INVITATION_MAX_AGE
    data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    return int(data["o"]), str(data["i"])
