"""seed_demo's portal contact: client@demo.test signs in and finds two clients
with different capabilities, open requests, a shared document, a letter to sign
and a message thread."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from billing.models import OPEN_INVOICE_STATUSES, Invoice
from clients.models import Engagement
from documents.models import Document, DocumentRequest
from portal.demo import PORTAL_EMAIL, PORTAL_PASSWORD
from portal.models import Message, PortalGrant


def test_the_demo_portal_contact_has_a_full_portal(db, settings, tmp_path, client):
    settings.DEBUG = True  # seed_demo runs only in DEBUG
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    demo = Organization.objects.get(slug="demo")
    with tenant_context(demo):
        grants = list(
            PortalGrant.objects.filter(contact__email=PORTAL_EMAIL).select_related(
                "client"
            )
        )
        assert len(grants) == 2
        kinds = {g.client.entity_type == "individual": g for g in grants}
        assert kinds[True].can_sign and not kinds[False].can_sign
        assert kinds[True].can_pay and not kinds[False].can_pay
        assert all(g.can_view_invoices for g in grants)
        client_ids = [g.client_id for g in grants]
        assert (
            DocumentRequest.objects.filter(
                client_id__in=client_ids, status="open"
            ).count()
            >= 2
        )
        assert Document.objects.filter(
            client_id__in=client_ids, visible_to_client=True
        ).exists()
        assert (
            Engagement.objects.filter(
                client=kinds[True].client, letter_accepted_at__isnull=True
            )
            .exclude(letter="")
            .exists()
        )
        assert Message.objects.filter(client=kinds[True].client).count() == 2
    response = client.post(
        "/p/demo/", {"email": PORTAL_EMAIL, "password": PORTAL_PASSWORD}
    )
    assert response["Location"] == "/p/demo/home/"
    home = client.get("/p/demo/home/")
    assert home.status_code == 200
    page = home.content.decode()
    assert "2025 tax organizer" in page and "Year-end close" in page
    assert "Read and sign" in page
    # The household's open invoice (billing.demo), to pay; Stripe is not
    # connected in the demo, so its page says payments are not online yet.
    assert 'data-testid="home-to-pay"' in page
    invoices = client.get("/p/demo/invoices/").content.decode()
    assert "INV-" in invoices
    with tenant_context(demo):
        open_invoice = Invoice.objects.filter(
            client=kinds[True].client, status__in=OPEN_INVOICE_STATUSES
        ).first()
    detail = client.get(f"/p/demo/invoices/{open_invoice.uuid}/").content.decode()
    assert "does not take payments online yet" in detail
