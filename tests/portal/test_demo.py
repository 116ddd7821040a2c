"""seed_demo's portal contact: client@demo.test signs in and finds two clients
with different capabilities, open requests, a shared document, a letter to sign
and a message thread."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
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
