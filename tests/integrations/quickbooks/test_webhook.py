"""Intuit's webhook: CloudEvents arrays signed with the verifier, checked on the
raw body, recorded once per firm under the event id in the transaction that
queues the job, answered at once. Forged, tampered or replayed deliveries are
refused or absorbed; an event never reaches a firm that has not connected its
company."""

from __future__ import annotations

import json
import logging

import pytest

from advisoros.tenancy.db import tenant_context
from integrations.quickbooks.models import WebhookEvent
from tests.integrations.quickbooks.conftest import FIRM_REALM, JANE_REALM, connect

URL = "/webhooks/quickbooks/"


def events_of(org) -> list[WebhookEvent]:
    with tenant_context(org):
        return list(WebhookEvent.objects.filter(organization=org).order_by("pk"))


def test_a_signed_batch_is_recorded_and_handed_to_the_sync(
    cast, alpha_books, intuit_standin, firm_company, deliver
):
    firm_company.add("Customer", Id="58", DisplayName="Acme Ltd")
    firm_company.add("Invoice", Id="130", TotalAmt=50)
    batch = [
        intuit_standin.cloud_event(FIRM_REALM, "Customer", "58", "updated"),
        intuit_standin.cloud_event(FIRM_REALM, "Invoice", "130", "created"),
    ]

    assert deliver(batch) == 200

    recorded = events_of(cast.alpha)
    assert [(e.event_id, e.type, e.entity_name, e.entity_id) for e in recorded] == [
        (batch[0]["id"], "qbo.customer.updated.v1", "Customer", "58"),
        (batch[1]["id"], "qbo.invoice.created.v1", "Invoice", "130"),
    ]
    assert {e.connection_id for e in recorded} == {alpha_books.pk}
    # The job ran: each entity was read by id and applied (a customer made in
    # QuickBooks became a client; an invoice made there is not imported).
    assert {e.status for e in recorded} == {"processed"}
    assert recorded[0].payload == batch[0]
    assert deliver.answers[0].json()["recorded"] == 2


def test_a_redelivery_is_absorbed(cast, alpha_books, intuit_standin, deliver):
    event = intuit_standin.cloud_event(FIRM_REALM, "Payment", "7")
    deliver([event])

    assert deliver([event]) == 200
    assert (
        deliver([event, intuit_standin.cloud_event(FIRM_REALM, "Payment", "8")]) == 200
    )

    assert [e.entity_id for e in events_of(cast.alpha)] == ["7", "8"]
    assert [a.json()["duplicates"] for a in deliver.answers] == [0, 1, 1]


@pytest.mark.parametrize(
    "forgery",
    [
        {"verifier": "not-the-verifier"},
        {"signature": ""},
        {"signature": "AAAA"},
        {"body": json.dumps([{"id": "x", "type": "qbo.customer.deleted.v1"}]).encode()},
    ],
    ids=["wrong key", "no signature", "garbage", "tampered body"],
)
def test_a_forged_delivery_is_refused_and_logged(
    cast, alpha_books, intuit_standin, deliver, caplog, forgery
):
    event = intuit_standin.cloud_event(FIRM_REALM, "Customer", "58")

    with caplog.at_level(logging.WARNING, logger="integrations.quickbooks.webhooks"):
        status = deliver([event], **forgery)

    assert status == 403
    assert events_of(cast.alpha) == []
    assert "QuickBooks webhook refused" in caplog.text


def test_a_signed_body_that_is_not_an_array_of_events_is_refused(
    cast, alpha_books, intuit_standin, deliver
):
    assert deliver([{"id": "x"}]) == 400
    assert deliver(["nope"]) == 400
    assert events_of(cast.alpha) == []


def test_an_event_never_reaches_a_firm_that_has_not_connected_its_company(
    cast, jane, alpha_books, intuit_standin, jane_company, deliver
):
    # Beta connected Jane's company (its own client of that name, say); Alpha
    # has only its own books.
    connect(cast.beta, cast.oscar, intuit_standin, JANE_REALM)

    deliver([intuit_standin.cloud_event(JANE_REALM, "Account", "3")])
    deliver([intuit_standin.cloud_event(FIRM_REALM, "Customer", "9")])

    assert [e.entity_id for e in events_of(cast.alpha)] == ["9"]
    assert [e.entity_id for e in events_of(cast.beta)] == ["3"]


def test_a_company_two_firms_connected_is_recorded_in_each_on_its_own(
    cast, alpha_books, intuit_standin, deliver
):
    beta_books = connect(cast.beta, cast.oscar, intuit_standin, FIRM_REALM)
    event = intuit_standin.cloud_event(FIRM_REALM, "Customer", "58")

    deliver([event])

    (alpha_event,) = events_of(cast.alpha)
    (beta_event,) = events_of(cast.beta)
    assert alpha_event.connection_id == alpha_books.pk
    assert beta_event.connection_id == beta_books.pk
    assert alpha_event.event_id == beta_event.event_id == event["id"]


def test_a_company_nobody_connected_is_answered_and_dropped(
    cast, alpha_books, intuit_standin, deliver
):
    assert deliver([intuit_standin.cloud_event("424242", "Customer", "1")]) == 200
    assert events_of(cast.alpha) == []


def test_a_disconnected_company_gets_nothing_recorded(
    cast, alpha_books, intuit_standin, deliver, login_as
):
    login_as(cast.alice).post(
        f"/o/alpha/integrations/quickbooks/{alpha_books.uuid}/disconnect/"
    )

    assert deliver([intuit_standin.cloud_event(FIRM_REALM, "Customer", "1")]) == 200
    assert events_of(cast.alpha) == []


def test_with_no_verifier_webhooks_are_off(
    cast, alpha_books, intuit_standin, deliver, settings
):
    settings.INTUIT_WEBHOOK_VERIFIER = ""

    assert deliver([intuit_standin.cloud_event(FIRM_REALM, "Customer", "1")]) == 404
    assert events_of(cast.alpha) == []


def test_the_webhook_takes_posts_only(client):
    assert client.get(URL).status_code == 405
