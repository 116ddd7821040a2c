"""The secure messages' background job: ids in, the firm's scope entered by
`run_in_organization`, the service called (queued on commit by message_send).

A retry after a failed send sends every email of the message again: a second
"a message is waiting" is harmless, a missing one is not."""

from __future__ import annotations

from advisoros.tenancy.models import Organization
from portal.services.messages import message_waiting_emails_for


def message_waiting_emails_job(*, organization: Organization, message_id: int) -> int:
    """Email the other side that a message is waiting; returns how many went."""
    return message_waiting_emails_for(organization=organization, message_id=message_id)
