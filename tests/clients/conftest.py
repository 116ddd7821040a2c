"""Fixtures for the clients tests: a way to make clients (and their people) in a firm."""

from __future__ import annotations

import pytest

from advisoros.tenancy.db import tenant_context
from clients.models import Client, Contact, ContactRole
from tests import factories


@pytest.fixture
def make_client():
    """make_client(org, "Jane Doe", tax_id=..., partner=user, ...) -> Client, via the service."""
    return factories.make_client


@pytest.fixture
def make_contact():
    """make_contact(client, "Ann", "Lee", email=..., role="primary") -> Contact linked to client."""

    def _make(
        client: Client,
        first_name: str,
        last_name: str = "",
        role=ContactRole.PRIMARY,
        **data,
    ):
        from clients.models import ClientContact
        from clients.services.search import search_index_clients

        with tenant_context(client.organization):
            contact = Contact.objects.create(
                organization=client.organization,
                first_name=first_name,
                last_name=last_name,
                **data,
            )
            ClientContact.objects.create(
                organization=client.organization,
                client=client,
                contact=contact,
                role=role,
            )
            search_index_clients([client.pk])
        return contact

    return _make


@pytest.fixture
def make_engagement():
    """make_engagement(client, "2025 return", due_date=..., preparer=user, ...) -> Engagement.

    Written directly (not through the service) so a test can set any state."""
    from clients.models import Engagement, EngagementType

    def _make(client: Client, name: str = "2025 return", **fields) -> Engagement:
        fields.setdefault("engagement_type", EngagementType.INDIVIDUAL_TAX)
        with tenant_context(client.organization):
            return Engagement.objects.create(
                organization=client.organization, client=client, name=name, **fields
            )

    return _make


@pytest.fixture
def make_clients():
    """make_clients(org, 120, prefix="Client", staff=user, ...) -> list[Client]: many
    at once (one bulk insert and one index rebuild), for paging and query-count tests."""
    from clients.services.search import fold, search_index_clients

    def _make(organization, n: int, prefix: str = "Client", **fields) -> list[Client]:
        code = "".join(ch for ch in fold(prefix).upper() if ch.isalnum())[:10]
        with tenant_context(organization):
            clients = Client.objects.bulk_create(
                Client(
                    organization=organization,
                    display_name=f"{prefix} {i:03d}",
                    sort_name=fold(f"{prefix} {i:03d}"),
                    client_code=f"{code}{i:03d}",
                    **fields,
                )
                for i in range(n)
            )
            search_index_clients([c.pk for c in clients])
        return clients

    return _make
