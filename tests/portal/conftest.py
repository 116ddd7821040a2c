"""The portal's cast, beside the firms' (tests/conftest.py).

Jane Doe (a client of Alpha) has a contact, Joan Doe (joan@client.test), who has
portal access to Jane with every capability, and a portal account with the
password PASSWORD. Acme Ltd is a second client of Alpha whose contact Carl has
his own access: what Joan must never see. Beta has its own client and contact.
The builders live in tests/portal/builders.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient

from clients.models import Client, Contact
from documents.models import DocumentRequest
from portal.models import PortalAccount, PortalGrant
from tests.factories import PASSWORD, make_client
from tests.portal.builders import (
    make_contact,
    make_grant,
    make_portal_account,
    make_request,
    portal_login,
)


@dataclass
class PortalCast:
    jane: Client  # Alpha's client
    joan: Contact  # Jane's contact, full access
    joan_account: PortalAccount
    joan_grant: PortalGrant
    jane_request: DocumentRequest  # open, two items
    acme: Client  # another Alpha client
    carl: Contact  # Acme's contact
    acme_request: DocumentRequest
    bruno_client: Client  # Beta's client
    bruno: Contact
    beta_request: DocumentRequest


@pytest.fixture(autouse=True)
def fresh_cache():
    """Lockout counters and rate limits live in the cache (per process in tests)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test's own file store (uploads are real files)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def pcast(cast, jane) -> PortalCast:
    joan = make_contact(jane, "Joan", "Doe", "joan@client.test")
    joan_grant = make_grant(joan, jane, can_sign=True)
    joan_account = make_portal_account("joan@client.test", PASSWORD)
    acme = make_client(cast.alpha, "Acme Ltd", entity_type="c_corp")
    carl = make_contact(acme, "Carl", "Acme", "carl@acme.test")
    make_grant(carl, acme, can_sign=True)
    make_portal_account("carl@acme.test", PASSWORD)
    bruno_client = make_client(cast.beta, "Bruno Beta")
    bruno = make_contact(bruno_client, "Bruno", "Beta", "bruno@beta-client.test")
    make_grant(bruno, bruno_client)
    return PortalCast(
        jane=jane,
        joan=joan,
        joan_account=joan_account,
        joan_grant=joan_grant,
        jane_request=make_request(jane, "2026 tax documents", ["W-2", "1099-INT"]),
        acme=acme,
        carl=carl,
        acme_request=make_request(acme, "Year-end books", ["Bank statements"]),
        bruno_client=bruno_client,
        bruno=bruno,
        beta_request=make_request(bruno_client, "Beta request", ["Receipts"]),
    )


@pytest.fixture
def joan_portal(pcast, client: HttpClient) -> HttpClient:
    """A browser signed in to Alpha's portal as Joan (password, no second factor)."""
    portal_login(client, "alpha", pcast.joan_account)
    return client
