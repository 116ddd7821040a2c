"""Alpha's billing clients for the money reports' tests.

Acme Widgets (Alice its partner, Sam on its staff: Sam's client where the firm
limits staff to their own), Birch Bakery (Adam its partner) and Cedar Trust (no
partner). `today` is Alpha's own date; the tests date everything from it.
"""

from __future__ import annotations

from datetime import date

import pytest

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Organization
from clients.models import Client, Engagement
from clients.services.engagements import engagement_create
from tests.factories import make_client


@pytest.fixture
def today(cast) -> date:
    return firm_today(cast.alpha)


@pytest.fixture
def acme(cast) -> Client:
    return make_client(cast.alpha, "Acme Widgets", partner=cast.alice, staff=cast.sam)


@pytest.fixture
def birch(cast) -> Client:
    return make_client(cast.alpha, "Birch Bakery", partner=cast.adam)


@pytest.fixture
def cedar(cast) -> Client:
    return make_client(cast.alpha, "Cedar Trust")


@pytest.fixture
def make_engagement():
    def make(client: Client, name: str, engagement_type: str, **data) -> Engagement:
        """Hourly at 150 unless told (a fixed fee: fee_model="fixed", fee_amount=)."""
        data.setdefault("fee_model", "hourly")
        if data["fee_model"] == "hourly":
            data.setdefault("hourly_rate", "150")
        with tenant_context(client.organization):
            return engagement_create(
                client=client,
                data={"name": name, "engagement_type": engagement_type, **data},
            )

    return make


@pytest.fixture
def assigned_only(cast):
    """Alpha shows staff and read-only members their assigned clients only."""

    def switch_on() -> None:
        with platform_bypass():
            Organization.objects.filter(pk=cast.alpha.pk).update(
                assigned_clients_only=True
            )

    return switch_on
