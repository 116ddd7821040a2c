"""The document page offers owners and admins the legal hold, and shows it."""

from __future__ import annotations

from advisoros.tenancy.db import tenant_context
from documents.models import Document
from tests.documents.stored_documents import stored_document


def test_an_admin_places_a_hold_from_the_document_page(cast, login_as, jane):
    document = stored_document(jane, title="W-2 Acme")
    page = f"/o/alpha/documents/{document.uuid}/"
    assert 'data-testid="legal-hold-form"' not in login_as(cast.sam).get(page).text

    admin = login_as(cast.adam)
    assert 'data-testid="legal-hold-form"' in admin.get(page).text
    response = admin.post(
        f"/o/alpha/documents/{document.uuid}/legal-hold/",
        {"on": "1", "reason": "IRS examination 2024", "next": page},
        follow=True,
    )

    assert "On legal hold" in response.text
    assert "IRS examination 2024" in response.text
    with tenant_context(cast.alpha):
        assert Document.objects.get(pk=document.pk).legal_hold
