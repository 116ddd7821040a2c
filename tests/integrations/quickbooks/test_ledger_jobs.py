"""The client ledgers' jobs: Intuit's events about a client's books queue one
pull of that client's ledger (however many arrive together), in the firm
whose connection recorded them and nowhere else; the schedule pulls the
ledgers due."""

from __future__ import annotations

import pytest

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import SyncRun, WebhookEvent
from integrations.quickbooks.tasks_ledger import client_ledger_pull_due
from tests.factories import make_client
from tests.integrations.quickbooks.conftest import (
    JANE_REALM,
    client_books,
    connect,
    month_day,
    pull,
)

ACME_REALM = "4004"
BOLT_REALM = "5005"


@pytest.fixture(autouse=True)
def short_window(settings):
    settings.QUICKBOOKS_LEDGER_MONTHS = 1


@pytest.fixture
def acme_books(cast, intuit_standin):
    """Alpha's second client with its books connected."""
    intuit_standin.add_company(ACME_REALM, name="Acme Trading LLC")
    acme = make_client(cast.alpha, "Acme Trading")
    return connect(cast.alpha, cast.alice, intuit_standin, ACME_REALM, client=acme)


def runs_of(connection) -> list[SyncRun]:
    with tenant_context(connection.organization):
        return list(SyncRun.objects.filter(connection=connection))


def test_events_of_a_clients_books_queue_one_pull_of_that_ledger_only(
    cast, jane, jane_books, jane_company, acme_books, intuit_standin, deliver
):
    accounts = client_books(jane_company, firm_today(cast.alpha))
    intuit_standin.add_company(BOLT_REALM, name="Bolt Inc")
    bolt = make_client(cast.beta, "Bolt Inc")
    bolt_books = connect(cast.beta, cast.oscar, intuit_standin, BOLT_REALM, client=bolt)
    entry = jane_company.post(
        month_day(firm_today(cast.alpha), 0, 1),
        (accounts["rent"], "75", ""),
        (accounts["checking"], "", "75"),
    )
    events = [
        intuit_standin.cloud_event(JANE_REALM, "JournalEntry", entry["Id"], "created"),
        intuit_standin.cloud_event(JANE_REALM, "Account", accounts["rent"]["Id"]),
        intuit_standin.cloud_event(JANE_REALM, "JournalEntry", entry["Id"]),
    ]

    assert deliver(events) == 200

    # Three events, one pull: the first waiting queued it, the pull took all.
    [run] = runs_of(jane_books)
    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert runs_of(acme_books) == [] and runs_of(bolt_books) == []
    with tenant_context(cast.alpha):
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
            WebhookEvent.Status.PROCESSED
        }
    with tenant_context(cast.beta):
        assert not WebhookEvent.objects.exists()
    assert intuit_standin.requests_to(f"/v3/company/{ACME_REALM}/query") == []


def test_an_event_while_a_pull_waits_is_taken_by_that_pull(
    cast, jane_books, jane_company, intuit_standin, django_capture_on_commit_callbacks
):
    from integrations.quickbooks.tasks import webhook_event_process

    with tenant_context(cast.alpha):
        made = [
            WebhookEvent.objects.create(
                organization=cast.alpha,
                connection=jane_books,
                event_id=f"ev-{n}",
                type="qbo.bill.created.v1",
                entity_name="Bill",
                entity_id=str(n),
                payload={},
            )
            for n in range(3)
        ]
        with django_capture_on_commit_callbacks() as queued:
            results = [
                webhook_event_process(organization=cast.alpha, event_id=event.pk)
                for event in made
            ]

    assert results[0].endswith("pull queued")
    assert not results[1].endswith("pull queued")
    assert len(queued) == 1  # one job for the connection, however many events
    with tenant_context(cast.alpha):
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {
            WebhookEvent.Status.RECEIVED_FOR_SYNC
        }


def test_the_schedule_pulls_the_ledgers_due(
    cast, jane_books, jane_company, acme_books, run_schedule
):
    client_books(jane_company, firm_today(cast.alpha))
    pull(acme_books)  # pulled just now: not due

    assert run_schedule(client_ledger_pull_due) == 1

    assert len(runs_of(jane_books)) == 1
    assert len(runs_of(acme_books)) == 1
