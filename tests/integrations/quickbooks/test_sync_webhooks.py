"""Webhook events applied by their jobs: the entity read again by id and
applied idempotently, in the firm whose connection recorded the event and
nowhere else."""

from __future__ import annotations

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from integrations.quickbooks.models import QuickBooksLink, WebhookEvent
from tests.integrations.quickbooks.conftest import FIRM_REALM, connect, sync

BETA_REALM = "3003"


def names(org) -> list[str]:
    with tenant_context(org):
        return sorted(Client.objects.values_list("display_name", flat=True))


def statuses(org) -> list[str]:
    with tenant_context(org):
        return list(
            WebhookEvent.objects.order_by("pk").values_list("status", flat=True)
        )


def test_an_event_is_read_by_id_and_applied_once(
    cast, alpha_books, firm_company, intuit_standin, deliver
):
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)
    firm_company.touch("Customer", acme["Id"], DisplayName="Acme Holdings")
    event = intuit_standin.cloud_event(FIRM_REALM, "Customer", acme["Id"])
    intuit_standin.requests.clear()

    deliver([event])
    deliver([event])  # a redelivery: absorbed by the intake
    deliver([intuit_standin.cloud_event(FIRM_REALM, "Customer", acme["Id"])])

    assert names(cast.alpha) == ["Acme Holdings"]
    assert statuses(cast.alpha) == ["processed", "processed"]
    reads = intuit_standin.requests_to(f"/v3/company/{FIRM_REALM}/customer/")
    assert len(reads) == 2  # one read per distinct event
    with tenant_context(cast.alpha):
        assert QuickBooksLink.objects.count() == 1


def test_a_webhook_for_one_firms_company_never_touches_another_firm(
    cast, alpha_books, firm_company, intuit_standin, deliver
):
    beta_company = intuit_standin.add_company(BETA_REALM, name="Beta Bookkeeping")
    beta_books = connect(cast.beta, cast.oscar, intuit_standin, BETA_REALM)
    # Both companies number their customers alike: the same id, two firms.
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    bolt = beta_company.add("Customer", DisplayName="Bolt Inc")
    assert acme["Id"] == bolt["Id"]
    sync(alpha_books)
    sync(beta_books)
    firm_company.touch("Customer", acme["Id"], DisplayName="Acme Holdings")
    beta_company.touch("Customer", bolt["Id"], DisplayName="Bolt Renamed Inc")

    deliver([intuit_standin.cloud_event(FIRM_REALM, "Customer", acme["Id"])])

    assert names(cast.alpha) == ["Acme Holdings"]
    assert names(cast.beta) == ["Bolt Inc"]
    assert statuses(cast.beta) == []
    beta_reads = intuit_standin.requests_to(f"/v3/company/{BETA_REALM}/customer/")
    assert beta_reads == []


def test_an_event_for_an_entity_quickbooks_no_longer_has_is_marked_failed(
    cast, alpha_books, firm_company, intuit_standin, deliver
):
    deliver([intuit_standin.cloud_event(FIRM_REALM, "Customer", "999")])

    with tenant_context(cast.alpha):
        event = WebhookEvent.objects.get()
    assert event.status == "failed"
    assert "Object Not Found" in event.error
    assert names(cast.alpha) == []


def test_a_deletion_is_left_to_a_person(
    cast, alpha_books, firm_company, intuit_standin, deliver
):
    acme = firm_company.add("Customer", DisplayName="Acme Ltd")
    sync(alpha_books)

    deliver([intuit_standin.cloud_event(FIRM_REALM, "Customer", acme["Id"], "deleted")])

    assert statuses(cast.alpha) == ["ignored"]
    assert names(cast.alpha) == ["Acme Ltd"]
