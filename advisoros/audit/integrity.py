"""The audit trail's integrity: change-log seals, signed checkpoints, verification.

Three pieces, each keyed with the audit key (`audit.keys`, outside the database):

- **Event chain** (`audit.chain`): every security event carries an HMAC over its
  content and the previous event's digest, written with the event.
- **Change-log seals** (`ChangeLogSeal`): django-auditlog writes an entry on every
  audited save, so chaining entry by entry would put every save of a firm behind
  one lock. Instead a job seals the entries written since the last batch, in id
  order: one row per batch with its id range, its count and an HMAC over the
  previous batch's digest and every entry's content.
- **Checkpoints**: a JSON file per firm in the file store (Django's default
  storage, outside the database), signed with an HMAC, that records the head of
  both: how many events and the last one's digest, how many seals and the last
  one's digest. An attacker who can rewrite the database but not the file store
  cannot cut events off the end or recompute a chain without the checkpoint
  disagreeing.

`integrity_verify` checks all three for one firm; `manage.py audit_verify` and the
owners' integrity page show what it finds.

Entries written late. A transaction may take an id, then commit after a batch
with higher ids was sealed; its entry would then sit inside a sealed range,
which verification reports (it is also what an inserted forgery looks like).
So a batch ends at the firm's highest id visible when sealing starts, and the
job first waits for every transaction of this database that was writing at that
moment to finish: any entry below that id is then committed or never will be.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Max, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from advisoros.audit.chain import GENESIS, ChainReport, chain_verify
from advisoros.audit.keys import audit_hmac, audit_key, key_id
from advisoros.audit.models import AuditCheckpoint, AuditEvent, ChangeLogSeal, LogEntry
from advisoros.tenancy.models import Membership, Organization, Role

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(SEAL_LOCK, organization id or 0): one sealer per firm.
SEAL_LOCK = 7_341_002
SEAL_BATCH = 10_000  # entries per seal at most
CHECKPOINT_DIR = "audit-checkpoints"
CHECKPOINT_FORMAT = 1

# The entry columns a seal covers: all but the foreign keys to people, which
# deleting a person sets to NULL (the email recorded with the entry stays).
ENTRY_FIELDS = (
    "id",
    "organization_id",
    "content_type_id",
    "object_pk",
    "object_id",
    "object_repr",
    "serialized_data",
    "action",
    "changes_text",
    "changes",
    "cid",
    "remote_addr",
    "remote_port",
    "timestamp",
    "additional_data",
    "actor_email",
)


def _canonical(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- Change-log seals -------------------------------------------------------


def _seal_hasher(
    organization_id: int | None,
    sequence: int,
    prev_digest: str,
    first_id: int,
    last_id: int,
    count: int,
):
    header = {
        "organization": organization_id,
        "sequence": sequence,
        "prev_digest": prev_digest,
        "first_id": first_id,
        "last_id": last_id,
        "count": count,
    }
    return hmac.new(audit_key("changes"), _canonical(header) + b"\n", hashlib.sha256)


def _entry_bytes(row: tuple) -> bytes:
    values = dict(zip(ENTRY_FIELDS, row, strict=True))
    values["timestamp"] = _utc(values["timestamp"])
    return _canonical(values) + b"\n"


def seal_digest(
    organization_id: int | None,
    sequence: int,
    prev_digest: str,
    rows: list[tuple],
) -> str:
    """The HMAC of one batch: its place, the previous batch's digest, every entry."""
    hasher = _seal_hasher(
        organization_id, sequence, prev_digest, rows[0][0], rows[-1][0], len(rows)
    )
    for row in rows:
        hasher.update(_entry_bytes(row))
    return hasher.hexdigest()


def _entries(organization_id: int | None):
    return LogEntry.objects.filter(organization_id=organization_id)


def _seals(organization_id: int | None):
    return ChangeLogSeal.objects.filter(organization_id=organization_id)


def _wait_for_writers(timeout: float) -> bool:
    """Wait until every transaction of this database that holds a transaction id
    now (it has written something) has ended; False if one outlives `timeout`.

    Read from pg_stat_activity, which shows the sessions of the application's
    own role (the ones that write the change log) to it.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(array_agg(backend_xid::text), '{}') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_xid IS NOT NULL"
        )
        (writing,) = cursor.fetchone()
        deadline = time.monotonic() + timeout
        while writing:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
            cursor.execute(
                "SELECT coalesce(array_agg(backend_xid::text), '{}')"
                " FROM pg_stat_activity WHERE backend_xid::text = ANY(%s)",
                [writing],
            )
            (writing,) = cursor.fetchone()
    return True


def changelog_seal(*, organization_id: int | None) -> list[ChangeLogSeal]:
    """Seal the firm's change-log entries written since its last seal (in batches
    of at most SEAL_BATCH). Run in the firm's context (or under the platform
    bypass for the platform's entries). Idempotent: nothing new, nothing sealed."""
    last_id = _seals(organization_id).aggregate(m=Max("last_id"))["m"] or 0
    cut = _entries(organization_id).filter(id__gt=last_id).aggregate(m=Max("id"))["m"]
    if cut is None:
        return []
    if not _wait_for_writers(settings.AUDIT_SEAL_WAIT_SECONDS):
        logger.warning(
            "Change log of firm %s not sealed: a transaction is still writing",
            organization_id,
        )
        return []
    created = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [SEAL_LOCK, organization_id or 0],
            )
        head = (
            _seals(organization_id)
            .order_by("-sequence")
            .values_list("sequence", "digest", "last_id")
            .first()
        )
        sequence, prev_digest, last_id = head if head else (0, GENESIS, 0)
        rows = (
            _entries(organization_id)
            .filter(id__gt=last_id, id__lte=cut)
            .order_by("id")
            .values_list(*ENTRY_FIELDS)
        )
        batch: list[tuple] = []
        for row in rows.iterator(chunk_size=2000):
            batch.append(row)
            if len(batch) == SEAL_BATCH:
                sequence, prev_digest = _seal_batch(
                    organization_id, sequence, prev_digest, batch, created
                )
                batch = []
        if batch:
            _seal_batch(organization_id, sequence, prev_digest, batch, created)
    return created


def _seal_batch(organization_id, sequence, prev_digest, batch, created):
    sequence += 1
    digest = seal_digest(organization_id, sequence, prev_digest, batch)
    created.append(
        ChangeLogSeal.objects.create(
            organization_id=organization_id,
            sequence=sequence,
            first_id=batch[0][0],
            last_id=batch[-1][0],
            count=len(batch),
            prev_digest=prev_digest,
            digest=digest,
        )
    )
    return sequence, digest


@dataclass
class SealReport:
    seals: int = 0
    sealed_entries: int = 0
    unsealed_entries: int = 0
    oldest_unsealed: datetime | None = None
    head_sequence: int = 0
    head_digest: str = GENESIS
    digests_at: dict[int, str] = field(default_factory=dict)
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


def seals_verify(
    seals: Iterable[ChangeLogSeal],
    entries: Iterable[tuple],
    organization_id: int | None,
    *,
    watch: Iterable[int] = (),
) -> SealReport:
    """Recompute every batch from the entries and name the first that does not fit:
    an entry edited, deleted or added inside a sealed range, or a seal missing."""
    report = SealReport()
    watched = set(watch)
    entries = iter(entries)
    pending: tuple | None = next(entries, None)
    expected, prev_digest = 1, GENESIS

    def fail(message: str) -> None:
        if not report.problem:
            report.problem = message

    for seal in seals:
        report.seals += 1
        report.sealed_entries += seal.count
        if seal.sequence in watched:
            report.digests_at[seal.sequence] = seal.digest
        report.head_sequence, report.head_digest = seal.sequence, seal.digest
        batch = []
        while pending is not None and pending[0] <= seal.last_id:
            batch.append(pending)
            pending = next(entries, None)
        name = f"change-log seal #{seal.sequence} (entries {seal.first_id} to {seal.last_id})"
        if seal.sequence != expected:
            fail(f"{name}: expected seal #{expected} (a seal is missing)")
        elif seal.prev_digest != prev_digest:
            fail(f"{name}: link to the previous seal is broken")
        elif len(batch) != seal.count:
            verb = "missing" if len(batch) < seal.count else "added"
            fail(
                f"{name}: {abs(seal.count - len(batch))} entries {verb} "
                f"({len(batch)} found, {seal.count} sealed)"
            )
        elif batch and batch[0][0] != seal.first_id:
            fail(f"{name}: entry {batch[0][0]} is inside the sealed range (added)")
        elif (
            not batch
            or seal_digest(organization_id, seal.sequence, prev_digest, batch)
            != seal.digest
        ):
            fail(f"{name}: entries do not match the seal (altered)")
        expected, prev_digest = seal.sequence + 1, seal.digest
    while pending is not None:
        report.unsealed_entries += 1
        moment = dict(zip(ENTRY_FIELDS, pending, strict=True))["timestamp"]
        if report.oldest_unsealed is None or moment < report.oldest_unsealed:
            report.oldest_unsealed = moment
        pending = next(entries, None)
    return report


# --- Checkpoints ------------------------------------------------------------


def _folder(organization: Organization | None) -> str:
    """The firm's checkpoint folder, by its uuid: unlike the id, it names the same
    firm in every database (a test database's firm 1 is not the dev one's)."""
    return f"{CHECKPOINT_DIR}/{organization.uuid if organization else 'platform'}"


def checkpoint_sign(body: dict) -> str:
    return audit_hmac("checkpoints", _canonical(body))


def _heads(organization_id: int | None) -> dict:
    events = AuditEvent.objects.filter(
        organization_id=organization_id, sequence__isnull=False
    )
    head = events.order_by("-sequence").values_list("sequence", "hash").first()
    seals = _seals(organization_id)
    seal_head = (
        seals.order_by("-sequence").values_list("sequence", "digest", "last_id").first()
    )
    sealed_entries = seals.aggregate(n=Sum("count"))["n"] or 0
    return {
        "events": {
            "count": events.count(),
            "head_sequence": head[0] if head else 0,
            "head_digest": head[1] if head else GENESIS,
        },
        "changes": {
            "seals": seal_head[0] if seal_head else 0,
            "head_digest": seal_head[1] if seal_head else GENESIS,
            "last_id": seal_head[2] if seal_head else 0,
            "sealed_entries": sealed_entries,
        },
    }


def checkpoint_create(
    *, organization: Organization | None, force: bool = False
) -> AuditCheckpoint | None:
    """Seal the change log, then write a signed checkpoint of both heads to the file
    store and index it. Unless `force`, nothing is written when nothing changed
    since the last checkpoint. Run in the firm's context (platform: the bypass)."""
    org_id = organization.pk if organization else None
    changelog_seal(organization_id=org_id)
    heads = _heads(org_id)
    last = AuditCheckpoint.objects.filter(organization_id=org_id).first()
    if (
        not force
        and last is not None
        and (last.events, last.events_head_digest, last.seals, last.seals_head_digest)
        == (
            heads["events"]["count"],
            heads["events"]["head_digest"],
            heads["changes"]["seals"],
            heads["changes"]["head_digest"],
        )
    ):
        return None
    now = timezone.now()
    body = {
        "format": CHECKPOINT_FORMAT,
        "organization": (
            {"id": org_id, "uuid": str(organization.uuid), "slug": organization.slug}
            if organization
            else None
        ),
        "created_at": _utc(now),
        "key_id": key_id(),
        **heads,
    }
    signature = checkpoint_sign(body)
    content = json.dumps({**body, "signature": signature}, indent=2, sort_keys=True)
    name = default_storage.save(
        f"{_folder(organization)}/{now:%Y-%m}/{now:%Y%m%dT%H%M%S.%fZ}.json",
        ContentFile(content.encode()),
    )
    checkpoint = AuditCheckpoint.objects.create(
        organization_id=org_id,
        created_at=now,
        name=name,
        events=heads["events"]["count"],
        events_head_digest=heads["events"]["head_digest"],
        seals=heads["changes"]["seals"],
        seals_head_digest=heads["changes"]["head_digest"],
        sealed_entries=heads["changes"]["sealed_entries"],
        signature=signature,
    )
    if organization is not None and organization.audit_checkpoint_email:
        _email_if_first_today(organization, checkpoint, content, previous=last)
    return checkpoint


def _email_if_first_today(
    organization: Organization,
    checkpoint: AuditCheckpoint,
    content: str,
    *,
    previous: AuditCheckpoint | None,
) -> None:
    """The owners get the day's first checkpoint (in the firm's time zone): a copy
    of it outside AdvisorOS altogether."""
    tz = ZoneInfo(organization.timezone)
    today = timezone.localtime(checkpoint.created_at, tz).date()
    if previous and timezone.localtime(previous.created_at, tz).date() == today:
        return
    owners = list(
        Membership.objects.filter(
            organization=organization, role=Role.OWNER, is_active=True
        ).values_list("user__email", flat=True)
    )
    if not owners:
        return
    ctx = {"organization": organization, "checkpoint": checkpoint}
    message = EmailMessage(
        subject=f"{organization.name}: audit checkpoint of {today:%b} {today.day}",
        body=render_to_string("audit/email/checkpoint.txt", ctx),
        to=owners,
    )
    message.attach(checkpoint.name.rsplit("/", 1)[-1], content, "application/json")
    transaction.on_commit(message.send)


@dataclass
class CheckpointReport:
    name: str
    created_at: str = ""
    events: int = 0
    seals: int = 0
    problems: list[str] = field(default_factory=list)
    body: dict = field(default_factory=dict)


def latest_checkpoint_name(organization: Organization | None) -> str | None:
    """The newest checkpoint file of the firm in the store (names sort by time).

    Files are grouped by month, so finding the newest lists the month folders
    and one month, not years of hourly files."""
    folder = _folder(organization)
    try:
        months, _ = default_storage.listdir(folder)
    except FileNotFoundError:
        return None
    for month in sorted(months, reverse=True):
        _, files = default_storage.listdir(f"{folder}/{month}")
        names = sorted(f for f in files if f.endswith(".json"))
        if names:
            return f"{folder}/{month}/{names[-1]}"
    return None


def checkpoint_read(name: str, organization_id: int | None) -> CheckpointReport:
    """Read a checkpoint file and check its signature, key and firm."""
    report = CheckpointReport(name)
    try:
        with default_storage.open(name, "rb") as fh:
            data = json.loads(fh.read())
        signature = data.pop("signature")
        report.body = data
        report.created_at = data["created_at"]
        report.events = data["events"]["count"]
        report.seals = data["changes"]["seals"]
        org = data["organization"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report.problems.append(f"checkpoint {name}: unreadable ({exc})")
        return report
    if data.get("key_id") != key_id():
        report.problems.append(
            f"checkpoint {name}: signed with another key (key id {data.get('key_id')})"
        )
    elif not hmac.compare_digest(str(signature), checkpoint_sign(data)):
        report.problems.append(
            f"checkpoint {name}: its signature does not verify (the file was altered)"
        )
    elif (org["id"] if org else None) != organization_id:
        report.problems.append(f"checkpoint {name}: made for another firm")
    return report


# --- Verification -----------------------------------------------------------


@dataclass
class IntegrityReport:
    organization_id: int | None
    name: str
    events: ChainReport
    seals: SealReport
    checkpoint: CheckpointReport | None
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def _event_rows(organization_id: int | None) -> Iterator[AuditEvent]:
    return (
        AuditEvent.objects.filter(organization_id=organization_id)
        .order_by(F("sequence").asc(nulls_last=True), "id")
        .iterator(chunk_size=2000)
    )


def _entry_rows(organization_id: int | None) -> Iterator[tuple]:
    return (
        _entries(organization_id)
        .order_by("id")
        .values_list(*ENTRY_FIELDS)
        .iterator(chunk_size=2000)
    )


def integrity_verify(
    *, organization: Organization | None, name: str = ""
) -> IntegrityReport:
    """Check one firm's (or the platform's) audit trail: the event chain, the
    change-log seals, and both against the newest checkpoint in the file store.
    Run in the firm's context, or under the platform bypass."""
    org_id = organization.pk if organization else None
    checkpoint = None
    watch_events: list[int] = []
    watch_seals: list[int] = []
    problems: list[str] = []
    latest = latest_checkpoint_name(organization)
    indexed = AuditCheckpoint.objects.filter(organization_id=org_id).first()
    if indexed is not None and not default_storage.exists(indexed.name):
        problems.append(
            f"checkpoint {indexed.name} of {_utc(indexed.created_at)} is in the "
            "database's index but missing from the file store"
        )
    if latest is not None:
        checkpoint = checkpoint_read(latest, org_id)
        problems.extend(checkpoint.problems)
        if not checkpoint.problems:
            watch_events = [checkpoint.body["events"]["head_sequence"]]
            watch_seals = [checkpoint.body["changes"]["seals"]]
    events = chain_verify(_event_rows(org_id), org_id, watch=watch_events)
    if events.problem:
        problems.append(events.problem)
    seals = seals_verify(
        _seals(org_id).order_by("sequence").iterator(chunk_size=2000),
        _entry_rows(org_id),
        org_id,
        watch=watch_seals,
    )
    if seals.problem:
        problems.append(seals.problem)
    if checkpoint is not None and not checkpoint.problems:
        problems.extend(_compare(checkpoint, events, seals))
    return IntegrityReport(
        organization_id=org_id,
        name=name or (organization.name if organization else "Platform (no firm)"),
        events=events,
        seals=seals,
        checkpoint=checkpoint,
        problems=problems,
    )


def _compare(
    checkpoint: CheckpointReport, events: ChainReport, seals: SealReport
) -> list[str]:
    """What the database says against what the checkpoint recorded."""
    problems = []
    when = checkpoint.created_at
    recorded = checkpoint.body["events"]
    chained = events.head_sequence
    if chained < recorded["head_sequence"] or events.events < recorded["count"]:
        problems.append(
            f"events cut off: the checkpoint of {when} recorded {recorded['count']} "
            f"events up to #{recorded['head_sequence']}, the database has "
            f"{events.events} up to #{chained}"
        )
    elif (
        recorded["head_sequence"]
        and events.hashes_at.get(recorded["head_sequence"]) != recorded["head_digest"]
    ):
        problems.append(
            f"event #{recorded['head_sequence']} differs from the checkpoint of "
            f"{when} (the chain was rewritten)"
        )
    recorded = checkpoint.body["changes"]
    if seals.head_sequence < recorded["seals"]:
        problems.append(
            f"change-log seals cut off: the checkpoint of {when} recorded "
            f"{recorded['seals']} seals, the database has {seals.head_sequence}"
        )
    elif (
        recorded["seals"]
        and seals.digests_at.get(recorded["seals"]) != recorded["head_digest"]
    ):
        problems.append(
            f"change-log seal #{recorded['seals']} differs from the checkpoint of "
            f"{when} (the seals were rewritten)"
        )
    return problems
