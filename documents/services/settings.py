"""A firm's document rules (size limit, OCR review threshold, reminders, retention)."""

from __future__ import annotations

from advisoros.tenancy.models import Organization
from documents.models import DocumentSettings


def document_settings_for(organization: Organization | int) -> DocumentSettings:
    """The firm's settings row, made with the defaults on first use."""
    org_id = organization if isinstance(organization, int) else organization.pk
    settings, _ = DocumentSettings.objects.get_or_create(organization_id=org_id)
    return settings
