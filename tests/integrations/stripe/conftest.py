"""The Stripe cast: Alpha (and Beta) connected to their own accounts at the
Stripe stand-in (tests/standins/stripe.py), Jane's issued invoice of 500 USD,
and Joan, Jane's contact, who pays it (builders in builders.py).

Events reach the app through Django's test client (each firm's stand-in
account posts to its webhook address through `webhook_target`), inside
`django_capture_on_commit_callbacks(execute=True)`: the webhook's transaction
"commits" and its job runs (django-q2's sync mode), as in production minus the
network.
"""

from __future__ import annotations

import pytest

from billing.models import Invoice
from clients.models import Client, Contact
from tests.factories import make_client, make_issued_invoice
from tests.integrations.stripe.builders import (
    StripeFirm,
    connect,
    django_webhook_target,
)
from tests.portal.builders import make_contact


@pytest.fixture
def webhook_target(django_capture_on_commit_callbacks):
    """Each firm's stand-in account posts to its webhook through the test client."""
    return lambda url: django_webhook_target(url, django_capture_on_commit_callbacks)


@pytest.fixture
def alpha_stripe(cast, stripe_standin, webhook_target) -> StripeFirm:
    return connect(
        cast.alpha, cast.alice, stripe_standin, webhook_target, name="Alpha Accounting"
    )


@pytest.fixture
def beta_stripe(cast, stripe_standin, webhook_target) -> StripeFirm:
    return connect(
        cast.beta, cast.oscar, stripe_standin, webhook_target, name="Beta Bookkeeping"
    )


@pytest.fixture
def joan(jane) -> Contact:
    return make_contact(jane, "Joan", "Doe", "joan@client.test")


@pytest.fixture
def invoice(cast, jane) -> Invoice:
    """Jane's invoice INV-00001: 500.00 USD, issued (sent)."""
    return make_issued_invoice(jane, cast.alice)


@pytest.fixture
def bruno(cast) -> Client:
    return make_client(cast.beta, "Bruno Beta")


@pytest.fixture
def beta_invoice(cast, bruno) -> Invoice:
    return make_issued_invoice(bruno, cast.oscar, lines=(("Books", "1", "300"),))
