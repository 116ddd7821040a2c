"""Lockout per address, on top of django-axes' lockout per email and address.

Axes locks one email from one address after AXES_FAILURE_LIMIT failures. An
attacker spraying one common password over many accounts from one address
never reaches that limit for any single email, so the address as a whole is
counted too: after SIGN_IN_ADDRESS_FAILURE_LIMIT failures (any emails) within
AXES_COOLOFF_TIME, that address may not sign in, as anyone, until the
failures age out. The limit is high enough for an office behind one NAT
address to mistype passwords for a morning.

The count comes from axes' own attempt rows, so a success (which resets only
that email's row) does not clear it: one valid account cannot be used to reset
the address's count.
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def address_failures(ip_address: str | None) -> int:
    """Failed sign-ins from one address within the cool-off, whatever the email."""
    if not ip_address:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(
        ip_address=ip_address, attempt_time__gte=since
    ).aggregate(n=Sum("failures_since_start"))["n"]
    return total or 0


def address_locked(ip_address: str | None) -> bool:
    return address_failures(ip_address) >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT


class AddressLimitHandler(AxesDatabaseHandler):
    """Axes' database handler plus the per-address limit (settings.AXES_HANDLER)."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or address_locked(
            getattr(request, "axes_ip_address", None)
        )

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if address_locked(request.axes_ip_address):
            # What axes does when its own limit is reached: the middleware then
            # answers with the lockout page, and the audit receiver records it.
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )
