"""A typed request for firm pages, so editors know what the middleware put there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from advisoros.accounts.models import User
    from advisoros.tenancy.models import Membership, Organization


class OrgRequest(HttpRequest):
    user: User
    organization: Organization
    membership: Membership
