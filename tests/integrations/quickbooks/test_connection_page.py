"""The QuickBooks page: each connection's state and sign-in expiry, the sync's
health (latest runs) and the latest events, for a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import (
    QuickBooksConnection,
    SyncRun,
    WebhookEvent,
)
from tests.factories import make_client

URL = "/o/alpha/integrations/quickbooks/"


def add_rows(cast, books, n: int, start: int) -> None:
    """n client connections (each with its client), runs and events."""
    with tenant_context(cast.alpha):
        for i in range(start, start + n):
            client = make_client(cast.alpha, f"Client {i}")
            connection = QuickBooksConnection.objects.create(
                organization=cast.alpha,
                kind="client",
                client=client,
                realm_id=f"5{i:04d}",
                company_name=f"Books {i}",
                refresh_token="r",
                connected_by=cast.alice,
                refresh_hard_expires_at=timezone.now() + timedelta(days=400),
            )
            SyncRun.objects.create(
                organization=cast.alpha,
                connection=books,
                kind="incremental",
                status="partial",
                error_count=2,
                requests_made=12,
                duration_ms=900,
                finished_at=timezone.now(),
            )
            # The client ledger's pull.
            SyncRun.objects.create(
                organization=cast.alpha,
                connection=connection,
                kind="incremental",
                status="succeeded",
                counts={"TrialBalance": {"recorded": 2}},
            )
            WebhookEvent.objects.create(
                organization=cast.alpha,
                connection=books,
                event_id=f"ev-{i}",
                type="qbo.invoice.updated.v1",
                entity_id=str(i),
                payload={},
            )


def test_the_page_costs_the_same_with_more_rows(
    cast, login_as, alpha_books, django_assert_num_queries
):
    owner = login_as(cast.alice)
    owner.get(URL)  # warm: the session, the nav
    for n, start in ((2, 0), (25, 2)):
        add_rows(cast, alpha_books, n, start)
        # Queries: 1 the session, 2 the user, 3 the firm in its RLS context,
        # 4 the member's firms (middleware); 5 the connections with their
        # clients and who connected them; 6 each client ledger's latest pull;
        # 7 the latest runs with their connections' clients; 8 the sync's open
        # issues counted by kind; 9 the latest events; 10 the RLS reset.
        with django_assert_num_queries(10):
            page = owner.get(URL).content.decode()
    assert page.count('data-testid="quickbooks-client-connection"') == 27
    assert page.count("2 months recorded") == 27
    assert page.count("qbo.invoice.updated.v1") == 10
    assert "Alpha Accounting LLC" in page
    assert "Disconnect" in page


def test_a_sign_in_near_its_hard_expiry_is_flagged(cast, login_as, alpha_books):
    with tenant_context(cast.alpha):
        QuickBooksConnection.objects.filter(pk=alpha_books.pk).update(
            refresh_hard_expires_at=timezone.now() + timedelta(days=10)
        )

    page = login_as(cast.alice).get(URL).content.decode()

    assert 'data-testid="quickbooks-expiring"' in page
    assert "Reconnect" in page
