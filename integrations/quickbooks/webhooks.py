"""Intuit's webhook intake: verify, record, queue, answer (views.quickbooks_webhook).

Intuit posts one address for the whole app (settings: the app's Webhooks page),
a JSON array of CloudEvents, each naming its company:

    [{"specversion": "1.0", "id": "...", "type": "qbo.invoice.updated.v1",
      "time": "...", "intuitaccountid": "<realm>", "intuitentityid": "130", ...}]

with the header `intuit-signature`: base64 of HMAC-SHA256 of the raw body under
the app's verifier token (settings.INTUIT_WEBHOOK_VERIFIER). The intake:

1. checks the signature on the raw body before reading it
   (`hmac.compare_digest`); missing or wrong: 403 and a log line, nothing read;
2. parses the array (not an array of events: 400);
3. finds the connections of the companies it names (the one read across firms,
   under the platform bypass: the body names realms, not firms). A company no
   firm has connected (or only disconnected) is logged and skipped;
4. for each firm with a connection to an event's company, in that firm's
   context: inserts the event under its unique (firm, event id) constraint and
   queues its job on commit, all in one transaction. A redelivery or a replay
   inserts nothing and queues nothing. An event is only ever written into the
   firms whose own connection names its company: another firm never sees it;
5. answers 200 at once: the work is the job's (integrations.quickbooks.tasks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from advisoros.tenancy.db import firm_context, platform_bypass
from advisoros.tenancy.tasks import enqueue_for_organization
from integrations.quickbooks.models import (
    ConnectionStatus,
    QuickBooksConnection,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

JOB = "integrations.quickbooks.tasks.webhook_event_process"
SIGNATURE_HEADER = "intuit-signature"
MAX_EVENTS = 1000


@dataclass(frozen=True)
class Received:
    status: int
    message: str
    recorded: int = 0
    duplicates: int = 0
    unknown: int = 0


def signature_for(body: bytes, verifier: str) -> str:
    """What Intuit sends in `intuit-signature` for `body`."""
    digest = hmac.new(verifier.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_ok(body: bytes, signature: str | None, verifier: str) -> bool:
    if not signature or not verifier:
        return False
    return hmac.compare_digest(signature_for(body, verifier), signature.strip())


def _event_fields(event) -> tuple[str, str, str, str] | None:
    """(id, type, realm, entity id) of a well-formed event, else None."""
    if not isinstance(event, dict):
        return None
    event_id, kind = event.get("id"), event.get("type")
    realm = str(event.get("intuitaccountid") or "")
    entity_id = str(event.get("intuitentityid") or "")
    if not (
        isinstance(event_id, str)
        and 0 < len(event_id) <= 255
        and isinstance(kind, str)
        and 0 < len(kind) <= 200
        and realm.isdigit()
        and len(realm) <= 32
        and len(entity_id) <= 64
    ):
        return None
    return event_id, kind, realm, entity_id


# The API's names of the entities whose event names are not just capitalised.
ENTITY_NAMES = {"creditmemo": "CreditMemo"}


def _entity_name(kind: str) -> str:
    """ "qbo.invoice.updated.v1" -> "Invoice", "qbo.creditmemo..." -> "CreditMemo"."""
    parts = kind.split(".")
    if len(parts) < 3:
        return ""
    return ENTITY_NAMES.get(parts[1].lower(), parts[1].capitalize())


def webhook_receive(*, body: bytes, signature: str | None) -> Received:
    verifier = settings.INTUIT_WEBHOOK_VERIFIER
    if not verifier:
        logger.warning("QuickBooks webhook refused: INTUIT_WEBHOOK_VERIFIER is unset")
        return Received(404, "QuickBooks webhooks are not turned on.")
    if not signature_ok(body, signature, verifier):
        logger.warning(
            "QuickBooks webhook refused: %s signature (%s bytes)",
            "bad" if signature else "no",
            len(body),
        )
        return Received(403, "Bad signature.")
    try:
        payload = json.loads(body)
    except ValueError:
        return Received(400, "Not JSON.")
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or len(payload) > MAX_EVENTS:
        return Received(400, "Not an array of events.")
    events = []
    for event in payload:
        fields = _event_fields(event)
        if fields is None:
            logger.warning("QuickBooks webhook: a malformed event refused")
            return Received(400, "Not an array of CloudEvents.")
        events.append((fields, event))
    return _record_all(events)


def _connections_of(realms: set[str]) -> dict[str, list[tuple[int, int, str]]]:
    """realm -> [(connection id, firm id, firm slug)] of live connections."""
    # PLATFORM BYPASS: the event names a company, not a firm; the firms that
    # connected that company are what we look up, nothing else.
    with platform_bypass():
        rows = (
            QuickBooksConnection.objects.filter(realm_id__in=realms)
            .exclude(status=ConnectionStatus.DISCONNECTED)
            .values_list("realm_id", "pk", "organization_id", "organization__slug")
        )
        found: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for realm, pk, org_id, slug in rows:
            found[realm].append((pk, org_id, slug))
    return found


def _record_all(events: list) -> Received:
    realms = {fields[2] for fields, _ in events}
    connections = _connections_of(realms)
    per_firm: dict[tuple[int, str], list] = defaultdict(list)
    unknown = 0
    for fields, event in events:
        targets = connections.get(fields[2])
        if not targets:
            unknown += 1
            logger.info(
                "QuickBooks event %s for company %s: no firm has it connected",
                fields[0],
                fields[2],
            )
            continue
        for connection_id, org_id, slug in targets:
            per_firm[(org_id, slug)].append((connection_id, fields, event))
    recorded = duplicates = 0
    with transaction.atomic():
        for (org_id, slug), items in per_firm.items():
            with firm_context(slug, user_id=None) as organization:
                if organization is None or organization.pk != org_id:
                    continue  # renamed this very moment: Intuit delivers again
                for connection_id, fields, event in items:
                    pk = _insert(organization.pk, connection_id, fields, event)
                    if pk is None:
                        duplicates += 1
                        continue
                    recorded += 1
                    enqueue_for_organization(JOB, organization, event_id=pk)
    return Received(
        200,
        "Received.",
        recorded=recorded,
        duplicates=duplicates,
        unknown=unknown,
    )


_INSERT = (
    "INSERT INTO {table} (organization_id, uuid, created_at, updated_at,"
    " connection_id, event_id, type, entity_name, entity_id, occurred_at, payload,"
    " status, error)"
    " VALUES (%s, gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, '')"
    " ON CONFLICT (organization_id, event_id) DO NOTHING RETURNING id"
)


def _insert(org_id: int, connection_id: int, fields, event: dict) -> int | None:
    """The event's new row id, or None when it was recorded before."""
    event_id, kind, _realm, entity_id = fields
    occurred = event.get("time")
    occurred_at: datetime | None = None
    if isinstance(occurred, str):
        try:
            occurred_at = parse_datetime(occurred)
        except ValueError:
            occurred_at = None
    now = timezone.now()
    table = connection.ops.quote_name(WebhookEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT.format(table=table),
            [
                org_id,
                now,
                now,
                connection_id,
                event_id,
                kind,
                _entity_name(kind),
                entity_id,
                occurred_at,
                json.dumps(event),
                WebhookEvent.Status.QUEUED,
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None
