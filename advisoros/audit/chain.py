"""The hash chain over each firm's security events.

Every event stores the hash of the one before it in the same firm, and its own
hash covers its content and that link. Rewriting or removing an event in the
database (past the append-only trigger, say by someone with the owner role)
breaks every hash after it, which `manage.py audit_verify` reports.

Foreign keys are left out of the hash on purpose: deleting a person sets them
to NULL, while the email recorded with the event stays and is hashed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC

from django.db import connection

from advisoros.audit.models import AuditEvent

GENESIS = "0" * 64
# pg_advisory_xact_lock(CHAIN_LOCK, organization id or 0): one writer per chain.
CHAIN_LOCK = 7_341_001


def event_digest(event: AuditEvent) -> str:
    ip = event.ip_address
    payload = {
        "uuid": str(event.uuid),
        "organization": event.organization_id,
        "sequence": event.sequence,
        "created_at": event.created_at.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        ),
        "action": event.action,
        "actor_email": event.actor_email,
        "target": event.target,
        "ip_address": ipaddress.ip_address(ip).compressed if ip else None,
        "user_agent": event.user_agent,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def chain_link(events: list[AuditEvent], organization_id: int | None) -> None:
    """Give new events of one chain their sequence and hashes.

    Call inside a transaction: the advisory lock holds until it ends, so two
    writers never take the same place in a chain.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK, organization_id or 0]
        )
    last = (
        AuditEvent.objects.filter(
            organization_id=organization_id, sequence__isnull=False
        )
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, prev_hash = last if last else (0, GENESIS)
    for event in events:
        sequence += 1
        event.sequence = sequence
        event.prev_hash = prev_hash
        event.hash = prev_hash = event_digest(event)


@dataclass
class ChainReport:
    organization_id: int | None
    events: int
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


def chain_verify(
    events: Iterable[AuditEvent], organization_id: int | None
) -> ChainReport:
    """Walk one chain in sequence order and name the first event that does not fit."""
    expected_sequence, prev_hash, count = 1, GENESIS, 0
    for event in events:
        count += 1
        if event.sequence is None:
            return ChainReport(
                organization_id, count, f"event {event.uuid}: written outside the chain"
            )
        if event.sequence != expected_sequence:
            return ChainReport(
                organization_id,
                count,
                f"event {event.uuid}: sequence {event.sequence}, expected {expected_sequence} (an event is missing)",
            )
        if event.prev_hash != prev_hash:
            return ChainReport(
                organization_id,
                count,
                f"event {event.uuid} (#{event.sequence}): link to the previous event is broken",
            )
        if event_digest(event) != event.hash:
            return ChainReport(
                organization_id,
                count,
                f"event {event.uuid} (#{event.sequence}): content does not match its hash (altered)",
            )
        expected_sequence, prev_hash = expected_sequence + 1, event.hash
    return ChainReport(organization_id, count)
