"""Offboarding: a deactivated firm is read-only for everyone (staff and portal)
but its pages and export still work; a scheduled deletion removes its rows and
files when due, keeps the audit trail, and can be cancelled before."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.audit.models import AuditAction, AuditEvent, LogEntry
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.export import firm_tables
from advisoros.tenancy.models import FirmExport, Membership, Organization
from advisoros.tenancy.offboarding import (
    firm_deactivate,
    firm_deletion_schedule,
    firm_deletions_run,
)
from clients.models import Client
from tests.portability.exports import stored_files
from tests.portal.builders import (
    make_contact,
    make_grant,
    make_portal_account,
    portal_login,
)


def _deactivated(cast) -> Organization:
    firm_deactivate(organization=cast.alpha, by=cast.alice)
    cast.alpha.refresh_from_db()
    return cast.alpha


def test_an_owner_deactivates_the_firm_from_the_data_page(cast, login_as):
    response = login_as(cast.alice).post("/o/alpha/data/deactivate/")

    assert response.status_code == 302
    cast.alpha.refresh_from_db()
    assert cast.alpha.deactivated_at is not None
    with tenant_context(cast.alpha):
        assert AuditEvent.objects.filter(
            action=AuditAction.FIRM_DEACTIVATED, actor=cast.alice
        ).exists()


def test_an_admin_cannot_deactivate_the_firm(cast, login_as):
    assert login_as(cast.adam).post("/o/alpha/data/deactivate/").status_code == 403
    cast.alpha.refresh_from_db()
    assert cast.alpha.deactivated_at is None


def test_a_deactivated_firm_refuses_every_write_with_a_clear_page(cast, login_as, jane):
    _deactivated(cast)

    for member in (cast.alice, cast.sam):
        response = login_as(member).post(
            "/o/alpha/clients/new/", {"display_name": "New Client"}
        )
        assert response.status_code == 403
        assert "This firm is deactivated" in response.content.decode()
    with tenant_context(cast.alpha):
        assert not Client.objects.filter(display_name="New Client").exists()


def test_a_deactivated_firm_still_shows_its_pages(cast, login_as, jane):
    _deactivated(cast)

    response = login_as(cast.sam).get("/o/alpha/clients/")

    assert response.status_code == 200
    assert "Jane Doe" in response.content.decode()


def test_a_deactivated_firm_can_still_be_exported(
    cast, login_as, django_capture_on_commit_callbacks
):
    _deactivated(cast)
    client = login_as(cast.alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/o/alpha/data/export/")

    assert response.status_code == 302
    with tenant_context(cast.alpha):
        export = FirmExport.objects.get()
    assert export.status == FirmExport.Status.READY
    page = client.get("/o/alpha/data/")
    download = client.get(page.context["exports"][0].download_url)
    assert download.status_code == 200


def test_a_deactivated_firms_portal_refuses_a_message_but_lets_clients_read(
    cast, client, jane
):
    joan = make_contact(jane, "Joan", "Doe", "joan@client.test")
    make_grant(joan, jane, can_message=True)
    account = make_portal_account("joan@client.test", "pw-123-correct-horse")
    portal_login(client, "alpha", account)
    _deactivated(cast)

    refused = client.post("/p/alpha/messages/", {"body": "Hello"})
    page = client.get("/p/alpha/home/")

    assert refused.status_code == 403
    assert "This firm is closed" in refused.content.decode()
    assert page.status_code == 200


def test_reactivating_makes_the_firm_writable_and_cancels_a_deletion(cast, login_as):
    _deactivated(cast)
    firm_deletion_schedule(organization=cast.alpha, by=cast.alice)
    client = login_as(cast.alice)

    assert client.post("/o/alpha/data/reactivate/").status_code == 302

    cast.alpha.refresh_from_db()
    assert cast.alpha.deactivated_at is None
    assert cast.alpha.deletion_scheduled_for is None
    response = client.post("/o/alpha/data/deactivate/")
    assert response.status_code == 302  # a write goes through again
    cast.alpha.refresh_from_db()
    assert cast.alpha.deactivated_at is not None


def test_scheduling_the_deletion_needs_the_firms_address_typed(cast, login_as):
    _deactivated(cast)
    client = login_as(cast.alice)

    client.post("/o/alpha/data/deletion/", {"confirm_slug": "nope"})
    cast.alpha.refresh_from_db()
    assert cast.alpha.deletion_scheduled_for is None

    client.post("/o/alpha/data/deletion/", {"confirm_slug": "alpha"})
    cast.alpha.refresh_from_db()
    due = cast.alpha.deletion_scheduled_for
    assert timedelta(days=29) < due - timezone.now() <= timedelta(days=30)

    client.post("/o/alpha/data/deletion/cancel/")
    cast.alpha.refresh_from_db()
    assert cast.alpha.deletion_scheduled_for is None


def test_the_deletion_waits_for_its_day(cast, full_firm, run_schedule):
    _deactivated(cast)
    firm_deletion_schedule(organization=cast.alpha, by=cast.alice)

    assert run_schedule(firm_deletions_run) == 0

    with tenant_context(cast.alpha):
        assert Client.objects.filter(organization=cast.alpha).exists()


def test_a_due_deletion_removes_the_rows_and_files_and_keeps_the_audit_trail(
    cast, full_firm, run_schedule, media_root
):
    from tests.factories import make_client

    make_client(cast.beta, "Bob Beta")
    _deactivated(cast)
    firm_deletion_schedule(organization=cast.alpha, by=cast.alice, days=0)
    with tenant_context(cast.alpha):
        events_before = AuditEvent.objects.filter(organization=cast.alpha).count()
        changes_before = LogEntry.objects.filter(organization=cast.alpha).count()
    assert any(f"/{cast.alpha.pk}/" in str(p) for p in stored_files(media_root))

    deleted_rows = run_schedule(firm_deletions_run)

    assert deleted_rows > 30
    cast.alpha.refresh_from_db()
    assert cast.alpha.deleted_at is not None and not cast.alpha.logo
    with tenant_context(cast.alpha):
        for model in firm_tables():
            assert not model._default_manager.filter(organization=cast.alpha).exists()
        assert AuditEvent.objects.filter(organization=cast.alpha).count() == (
            events_before + 1
        )
        assert AuditEvent.objects.filter(action=AuditAction.FIRM_DELETED).exists()
        assert (
            LogEntry.objects.filter(organization=cast.alpha).count() >= changes_before
        )
    assert not [
        p for p in stored_files(media_root) if f"private/{cast.alpha.pk}/" in str(p)
    ]
    # Beta is untouched; Alice can no longer open Alpha.
    with platform_bypass():
        assert Client.objects.filter(organization=cast.beta).exists()
        assert not Membership.objects.filter(organization=cast.alpha).exists()
