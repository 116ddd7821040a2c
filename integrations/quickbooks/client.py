"""The thin QuickBooks Online accounting API client, on `requests`.

python-quickbooks is not used: it pins another intuit-oauth, sends requests
without timeouts, reads money as floats and does not handle 429. This client:

- sends every request with a timeout (settings.QUICKBOOKS_TIMEOUT_SECONDS) and
  `minorversion=75` (Intuit ignores 1-74 since 2025);
- takes a slot of the company's limits first (integrations.quickbooks.limits:
  10 at once, 500 a minute per realm, across processes);
- sends a `requestid` on every write: ours, named after the business action
  (`request_id("invoice", invoice.uuid, "create")`), so a retry after a
  timeout, a retried job or a double click is the same request to Intuit,
  which answers the first result again instead of writing twice;
- tries a 429 or a 5xx (or a timeout, a dropped connection) again up to
  settings.QUICKBOOKS_MAX_ATTEMPTS times in all, waiting what `Retry-After`
  says or backing off (doubling from QUICKBOOKS_BACKOFF_SECONDS), capped;
- refreshes the access token when it is about to expire, and once more on a
  401 (integrations.quickbooks.tokens); Intuit refusing the refresh token
  turns the connection to "reconnect" and raises `NeedsReconnect`;
- reads amounts as Decimal (`parse_float=Decimal`): report cells are strings,
  turned into Decimal by `report_rows`.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings

from integrations.quickbooks.limits import RealmLimiter
from integrations.quickbooks.models import QuickBooksConnection
from integrations.quickbooks.oauth import api_base
from integrations.quickbooks.tokens import (
    NeedsReconnect,
    TokenRefreshFailed,
    connection_access_token,
)

logger = logging.getLogger(__name__)

MINOR_VERSION = "75"
PAGE_SIZE = 1000  # Intuit's largest MAXRESULTS
CDC_MAX_DAYS = 30
RETRYABLE = frozenset({429, 500, 502, 503, 504})
# Intuit's code for an update carrying an old SyncToken.
STALE_OBJECT = "5010"
_REQUEST_IDS = uuid.UUID("6f1d6f4e-9a51-4c1e-9a43-8e0f2f3b8a11")

# What a call may raise: QuickBooksError (Intuit refused, or was not reached
# after every try; StaleObject for an old SyncToken), NeedsReconnect (the
# connection waits for a new sign-in), TokenRefreshFailed (Intuit's token
# endpoint not reached: try later), limits.LimitWaitExceeded (no slot in time).
__all__ = [
    "NeedsReconnect",
    "QuickBooksClient",
    "QuickBooksError",
    "StaleObject",
    "TokenRefreshFailed",
    "request_id",
]


def request_id(*parts: object) -> str:
    """The `requestid` of a business action: the same parts, the same id
    ("invoice", its uuid, "create") -> always one invoice at Intuit."""
    return str(uuid.uuid5(_REQUEST_IDS, ":".join(str(p) for p in parts)))


class QuickBooksError(Exception):
    """Intuit refused a request, or could not be reached after every try."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str = "", body=None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body


class StaleObject(QuickBooksError):
    """An update with an old SyncToken: someone changed the object since we
    read it. Read it again and decide; never overwrite blindly."""


@dataclass
class ReportRow:
    """One Data row of a report: its cells (first: the label, with the
    account's id when it has one) and the Section headers above it."""

    label: str
    account_id: str
    amounts: list[Decimal | None]
    sections: list[str] = field(default_factory=list)


def _decimal(value: str | None) -> Decimal | None:
    """A report cell: a string, maybe empty (no amount)."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None


def report_rows(report: dict) -> list[ReportRow]:
    """The Data rows of a report (TrialBalance, ProfitAndLoss, BalanceSheet),
    walked through its Sections; Summary rows (Intuit's subtotals) are never
    taken, so adding rows up never counts an amount twice."""
    found: list[ReportRow] = []

    def walk(rows: list, sections: list[str]) -> None:
        for row in rows:
            if row.get("type") == "Section" or "Rows" in row:
                header = (row.get("Header") or {}).get("ColData") or [{}]
                title = header[0].get("value", "")
                walk(
                    (row.get("Rows") or {}).get("Row") or [],
                    [*sections, title] if title else sections,
                )
                continue
            cells = row.get("ColData") or []
            if not cells:
                continue
            found.append(
                ReportRow(
                    label=cells[0].get("value", ""),
                    account_id=str(cells[0].get("id", "")),
                    amounts=[_decimal(c.get("value")) for c in cells[1:]],
                    sections=sections,
                )
            )

    walk(((report.get("Rows") or {}).get("Row")) or [], [])
    return found


class QuickBooksClient:
    """Calls to one connected company. Build one per job or page."""

    def __init__(
        self,
        connection: QuickBooksConnection,
        *,
        session: requests.Session | None = None,
        limiter: RealmLimiter | None = None,
    ) -> None:
        self.connection = connection
        self.session = session or requests.Session()
        self.limiter = limiter or RealmLimiter(connection.realm_id)
        self.requests_made = 0

    # The one door -------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: str | None = None,
        request_id: str | None = None,
    ) -> dict:
        """`path` under /v3/company/<realm>/. Returns the parsed answer."""
        if method != "GET" and not request_id:
            raise ValueError("Every write to QuickBooks carries a requestid.")
        url = f"{api_base()}/v3/company/{self.connection.realm_id}/{path.lstrip('/')}"
        query = {**(params or {}), "minorversion": MINOR_VERSION}
        if request_id:
            query["requestid"] = request_id
        attempts = max(1, settings.QUICKBOOKS_MAX_ATTEMPTS)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            token = connection_access_token(self.connection, force=False)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/text"
            try:
                with self.limiter.slot():
                    self.requests_made += 1
                    response = self.session.request(
                        method,
                        url,
                        params=query,
                        json=json,
                        data=data,
                        headers=headers,
                        timeout=settings.QUICKBOOKS_TIMEOUT_SECONDS,
                    )
            except requests.RequestException as exc:
                if attempt >= attempts:
                    raise QuickBooksError(
                        f"QuickBooks could not be reached ({exc.__class__.__name__})."
                    ) from exc
                self._wait(attempt, None, f"{exc.__class__.__name__}")
                continue
            status = response.status_code
            if status == 401 and not refreshed:
                # The token died early (revoked and granted again, a clock
                # skew): one refresh, then the same request again.
                refreshed = True
                connection_access_token(self.connection, force=True)
                attempt -= 1
                continue
            if status in RETRYABLE and attempt < attempts:
                self._wait(attempt, response.headers.get("Retry-After"), str(status))
                continue
            return self._answer(response)

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> None:
        delay = None
        if retry_after:
            try:
                delay = float(retry_after)
            except ValueError:
                delay = None
        if delay is None:
            base = settings.QUICKBOOKS_BACKOFF_SECONDS * 2 ** (attempt - 1)
            delay = base + random.uniform(0, base / 2)  # noqa: S311 (jitter)
        delay = min(max(delay, 0.0), settings.QUICKBOOKS_MAX_WAIT_SECONDS)
        logger.info(
            "QuickBooks company %s answered %s; try %s again in %.2f s",
            self.connection.realm_id,
            why,
            attempt + 1,
            delay,
        )
        time.sleep(delay)

    def _answer(self, response: requests.Response) -> dict:
        try:
            body = response.json(parse_float=Decimal)
        except ValueError:
            body = None
        if response.status_code < 400:
            return body if isinstance(body, dict) else {}
        message, code = _fault(body)
        error = StaleObject if code == STALE_OBJECT else QuickBooksError
        raise error(
            f"QuickBooks answered {response.status_code}: {message}"[:1000],
            status=response.status_code,
            code=code,
            body=body,
        )

    # What the sync uses ---------------------------------------------------------

    def query(self, statement: str, *, page_size: int = PAGE_SIZE) -> Iterator[dict]:
        """Every entity a `select * from <Entity> [where ...]` finds, paged
        with STARTPOSITION/MAXRESULTS until a short page."""
        entity = statement.split()[3] if len(statement.split()) > 3 else ""
        start = 1
        while True:
            answer = self.request(
                "GET",
                "query",
                params={
                    "query": f"{statement} STARTPOSITION {start} MAXRESULTS {page_size}"
                },
            )
            page = (answer.get("QueryResponse") or {}).get(entity) or []
            yield from page
            if len(page) < page_size:
                return
            start += page_size

    def read(self, entity: str, entity_id: str) -> dict:
        answer = self.request("GET", f"{entity.lower()}/{entity_id}")
        return answer[entity]

    def create(self, entity: str, body: dict, *, request_id: str) -> dict:
        answer = self.request("POST", entity.lower(), json=body, request_id=request_id)
        return answer[entity]

    def update(self, entity: str, body: dict, *, request_id: str) -> dict:
        """`body` carries `Id` and the `SyncToken` it was read with; an old one
        raises StaleObject. `sparse` updates only the fields sent."""
        if "Id" not in body or "SyncToken" not in body:
            raise ValueError("An update names the object's Id and SyncToken.")
        answer = self.request(
            "POST",
            entity.lower(),
            json={"sparse": True, **body},
            request_id=request_id,
        )
        return answer[entity]

    def void(self, entity: str, body: dict, *, request_id: str) -> dict:
        """Void a transaction (`operation=void`, with its Id and the SyncToken
        read; an old one raises StaleObject). QuickBooks keeps it, amounts zeroed."""
        if "Id" not in body or "SyncToken" not in body:
            raise ValueError("A void names the object's Id and SyncToken.")
        answer = self.request(
            "POST",
            entity.lower(),
            params={"operation": "void"},
            json=body,
            request_id=request_id,
        )
        return answer[entity]

    def cdc(self, entities: list[str], changed_since: datetime) -> dict[str, list]:
        """What changed since `changed_since` (at most 30 days back; Intuit
        answers at most 1,000 objects, so callers keep windows short):
        {"Customer": [...], "Invoice": [...]}; deleted objects carry
        `status: "Deleted"`."""
        answer = self.request(
            "GET",
            "cdc",
            params={
                "entities": ",".join(entities),
                "changedSince": changed_since.isoformat(timespec="seconds"),
            },
        )
        found: dict[str, list] = {name: [] for name in entities}
        for block in answer.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for name, objects in response.items():
                    if isinstance(objects, list):
                        found.setdefault(name, []).extend(objects)
        return found

    def report(self, name: str, **params: str) -> dict:
        """A report as Intuit sends it (keep it raw; read it with `report_rows`)."""
        return self.request("GET", f"reports/{name}", params=params)

    def trial_balance(self, *, start: str, end: str) -> tuple[list[ReportRow], dict]:
        """The trial balance's rows (Decimal debit and credit) and its raw JSON."""
        raw = self.report("TrialBalance", start_date=start, end_date=end)
        return report_rows(raw), raw

    def company_info(self) -> dict:
        realm = self.connection.realm_id
        return self.request("GET", f"companyinfo/{realm}").get("CompanyInfo", {})


def _fault(body: Any) -> tuple[str, str]:
    """Intuit's error: {"Fault": {"Error": [{"Message", "Detail", "code"}]}}."""
    if not isinstance(body, dict):
        return "no details", ""
    fault = body.get("Fault") or body.get("fault") or {}
    errors = fault.get("Error") or fault.get("error") or []
    if not errors:
        return str(body)[:300], ""
    first = errors[0]
    message = first.get("Detail") or first.get("Message") or "error"
    return str(message), str(first.get("code", ""))
