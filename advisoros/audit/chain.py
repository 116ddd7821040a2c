"""The hash chain over each firm's security events.

Every event stores the digest of the one before it in the same firm, and its own
digest covers its content and that link. Rewriting or removing an event in the
database (past the append-only trigger, say by someone with the owner role)
breaks every digest after it, which `manage.py audit_verify` reports.

The digest is an HMAC-SHA256 with a key that is not in the database
(`audit.keys`, from settings.AUDIT_CHAIN_KEY): someone who can rewrite the table
cannot recompute the chain after a change. Cutting events off the end leaves a
shorter chain that is intact in itself; the signed checkpoints in the file store
(`audit.integrity`) catch that.

`chain_version` says how an event's digest was made:

1. plain SHA-256 (the events written before the key existed);
2. HMAC-SHA256 with the audit key.

Version 1 is accepted only as a chain's opening run, sealed by a version-2
"chain keyed" event right after it that names how many events it seals (the
migration that introduced the key wrote one per chain). Anywhere else a version-1
event is reported: otherwise anyone could rewrite the end of a chain as
"version 1" and recompute it without the key.

Foreign keys are left out of the digest on purpose: deleting a person sets them
to NULL, while the email recorded with the event stays and is hashed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC

from django.db import connection

from advisoros.audit.keys import audit_hmac
from advisoros.audit.models import AuditAction, AuditEvent

GENESIS = "0" * 64
# pg_advisory_xact_lock(CHAIN_LOCK, organization id or 0): one writer per chain.
CHAIN_LOCK = 7_341_001
LEGACY = 1  # plain SHA-256
KEYED = 2  # HMAC-SHA256 with the audit key
CURRENT_VERSION = KEYED


def event_payload(event) -> bytes:
    """The canonical bytes an event's digest covers (any object with an event's
    fields: the migrations pass their historical models)."""
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
    if event.chain_version != LEGACY:
        # The version is covered too: changing it changes the digest.
        payload["chain_version"] = event.chain_version
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return encoded.encode()


def event_digest(event) -> str:
    if event.chain_version == LEGACY:
        return hashlib.sha256(event_payload(event)).hexdigest()
    return audit_hmac("events", event_payload(event))


def chain_link(events: list[AuditEvent], organization_id: int | None) -> None:
    """Give new events of one chain their sequence and digests.

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
        event.chain_version = CURRENT_VERSION
        event.hash = prev_hash = event_digest(event)


@dataclass
class ChainReport:
    organization_id: int | None
    events: int
    problem: str = ""
    head_sequence: int = 0
    head_hash: str = GENESIS
    # The digests of the events asked for (a checkpoint's head), by sequence.
    hashes_at: dict[int, str] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return not self.problem


def chain_verify(
    events: Iterable[AuditEvent],
    organization_id: int | None,
    *,
    watch: Iterable[int] = (),
) -> ChainReport:
    """Walk one chain in sequence order and name the first event that does not fit.

    The walk goes on past a problem (counting and noting the `watch`ed digests),
    so a checkpoint can still be compared; only the first problem is named.
    """
    report = ChainReport(organization_id, 0)
    watched = set(watch)
    expected_sequence, prev_hash = 1, GENESIS
    legacy_run = 0  # version-1 events at the chain's start, still to be sealed
    keyed_seen = False

    def fail(message: str) -> None:
        if not report.problem:
            report.problem = message

    for event in events:
        report.events += 1
        name = f"event {event.uuid} (#{event.sequence})"
        if event.sequence is None:
            fail(f"event {event.uuid}: written outside the chain")
            continue
        if event.sequence in watched:
            report.hashes_at[event.sequence] = event.hash
        report.head_sequence, report.head_hash = event.sequence, event.hash
        if event.sequence != expected_sequence:
            fail(
                f"event {event.uuid}: sequence {event.sequence}, expected "
                f"{expected_sequence} (an event is missing)"
            )
        elif event.prev_hash != prev_hash:
            fail(f"{name}: link to the previous event is broken")
        elif event.chain_version not in (LEGACY, KEYED):
            fail(f"{name}: unknown chain version {event.chain_version}")
        elif event.chain_version == LEGACY and keyed_seen:
            fail(f"{name}: not under the key after keyed events (rewritten)")
        elif event_digest(event) != event.hash:
            fail(f"{name}: content does not match its hash (altered)")
        elif event.chain_version == LEGACY:
            legacy_run += 1
        elif not keyed_seen and legacy_run and not _seals_legacy(event, legacy_run):
            fail(f"{name}: the unkeyed events before it are not sealed by the key")
        keyed_seen = keyed_seen or event.chain_version == KEYED
        expected_sequence, prev_hash = event.sequence + 1, event.hash
    if legacy_run and not keyed_seen:
        fail(
            f"events #1 to #{legacy_run}: not under the key (no keyed seal after them)"
        )
    return report


def _seals_legacy(event: AuditEvent, legacy_run: int) -> bool:
    return (
        event.action == AuditAction.AUDIT_CHAIN_KEYED
        and (event.detail or {}).get("legacy_events") == legacy_run
    )
