"""Time and rates in the Django admin: superusers see every firm's rows, a firm's
admins their own, to look (the firm's pages change them, through the services)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisoros.accounts.models import User
from advisoros.tenancy.db import tenant_context
from billing.models import EngagementRate, MemberRate, Timer
from tests.conftest import PASSWORD
from tests.factories import make_client, time_entries

MODELS = ["timeentry", "timer", "memberrate", "engagementrate", "billingsettings"]


@pytest.fixture
def both_firms(cast, acme, books, record):
    """A row of every time model in Alpha and Beta."""
    beta_client = make_client(cast.beta, "Beta Bakery")
    with tenant_context(cast.beta):
        beta_books = books.__class__.objects.create(
            organization=cast.beta,
            client=beta_client,
            name="Beta books",
            engagement_type="bookkeeping",
        )
    for org, user, client, engagement, name in (
        (cast.alpha, cast.sam, acme, books, "Acme"),
        (cast.beta, cast.oscar, beta_client, beta_books, "Beta"),
    ):
        record(user, client, 60, description=f"{name} work")
        with tenant_context(org):
            membership = cast.membership(user, org)
            MemberRate.objects.create(
                organization=org, membership=membership, billing_rate=Decimal("100")
            )
            EngagementRate.objects.create(
                organization=org, engagement=engagement, billing_rate=Decimal("90")
            )
            Timer.objects.create(organization=org, user=user, client=client)


@pytest.fixture
def as_root(cast, client):
    root = User.objects.create_superuser("root@platform.test", PASSWORD, name="Root")
    device = TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    client.force_login(root)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.mark.parametrize("model", MODELS)
def test_a_superuser_sees_every_firms_rows(cast, both_firms, as_root, model):
    response = as_root.get(f"/admin/billing/{model}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Accounting" in html and "Beta Bookkeeping" in html


def test_a_superuser_finds_time_by_client(cast, both_firms, as_root):
    html = as_root.get("/admin/billing/timeentry/?q=Beta").content.decode()

    assert "Beta Bakery" in html and "Acme Widgets" not in html


@pytest.mark.parametrize("model", MODELS)
def test_a_firm_admin_sees_only_their_firms_rows(cast, both_firms, login_as, model):
    client = login_as(cast.adam)
    client.get("/o/alpha/")

    response = client.get(f"/admin/billing/{model}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Beta" not in html and "Oscar" not in html


def test_a_firm_admin_cannot_change_time_in_the_admin(cast, both_firms, login_as):
    [entry] = time_entries(cast.alpha)
    client = login_as(cast.adam)
    client.get("/o/alpha/")

    page = client.get(f"/admin/billing/timeentry/{entry.pk}/change/")
    response = client.post(
        f"/admin/billing/timeentry/{entry.pk}/change/", {"minutes": "600"}
    )

    assert page.status_code == 200 and "Acme Widgets" in page.content.decode()
    assert response.status_code == 403
    assert time_entries(cast.alpha)[0].minutes == 60
