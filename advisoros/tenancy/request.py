"""A typed request for firm pages, so editors know what the middleware put there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from advisoros.accounts.models import User
    from advisoros.tenancy.models import FirmSubscription, Membership, Organization
    from advisoros.tenancy.plans import Standing


class OrgRequest(HttpRequest):
    user: User
    organization: Organization
    membership: Membership
    # The firm's own subscription (advisoros.tenancy.plans); None while the
    # platform's billing is off.
    firm_subscription: FirmSubscription | None
    subscription_standing: Standing
