"""A local stand-in for the parts of Intuit that AdvisorOS calls.

No installable QuickBooks fake exists, so this is a small Intuit of our own: a
stdlib `ThreadingHTTPServer` on 127.0.0.1 (a random port) that the real
`intuitlib.AuthClient` and our `requests` client (integrations.quickbooks)
talk to. The app reaches it through settings: INTUIT_ENVIRONMENT is the
stand-in's discovery URL (intuitlib takes any environment other than
sandbox/production as one) and INTUIT_API_BASE its address.

What it serves:

- `GET /.well-known/openid_configuration`: the discovery document, naming the
  endpoints below.
- `GET /connect/oauth2`: the consent page (a browser is sent straight back to
  the redirect URI with a code for the first company); tests call
  `authorize(url, realm)` instead, which answers the callback URL Intuit would
  send the browser to.
- `POST /oauth2/v1/tokens/bearer`: `authorization_code` (each code once) and
  `refresh_token`, with the client's Basic credentials. Refresh tokens rotate:
  every refresh answers a new one and the one used stops working at once
  (stricter than Intuit, which tolerates the old one for a while: a client
  that keeps an old token fails here). A revoked grant, a used, unknown or
  expired refresh token: 400 `{"error": "invalid_grant"}`. With the header
  `x-include-refresh-token-hard-expires-in: true` the answer carries
  `x_refresh_token_hard_expires_in`.
- `POST /oauth2/v1/tokens/revoke`: revokes the whole grant (`{"token": ...}`).
- The accounting API under `/v3/company/<realm>/`, with a Bearer access token
  of that company's grant (else 401): `query` (a small SQL: `select * from
  <Entity> [where A = 'x' and B > 'y'] [startposition n] [maxresults m]`),
  read (`<entity>/<id>`), create and update (`POST <entity>`, update with the
  current `SyncToken` or a 400 Fault code 5010 "Stale Object Error"; `sparse`
  merges), void (`POST <entity>?operation=void` with Id and SyncToken: amounts
  zeroed, PrivateNote "Voided"; `Company.void` is a person doing it), invoices'
  and credit memos' TotalAmt added up from their lines, `cdc` (30 days back
  at most, 1,000 objects an answer),
  `reports/<Name>` (canned, for every date or one `end_date`, or a
  TrialBalance built from the accounts: from the journal entries posted up to
  `end_date` when there are any, see `Company.post`) and `companyinfo/<realm>`.
  Account queries answer active accounts only unless the statement asks for
  `Active IN (true, false)`, as QuickBooks does. A write's `requestid` is
  remembered per company: the
  same id answers the first result again.

Faults are injected with `fail_next` (a status with an optional Retry-After,
or a delay), every request is recorded (`requests`, `requests_to`), the most
accounting requests served at once per company is kept (`most_in_flight`), and
`post_webhook` signs CloudEvents arrays as Intuit does (header
`intuit-signature` = base64 HMAC-SHA256 of the raw body with the verifier) and
posts them to a URL or hands them to a callable (Django's test client).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

CLIENT_ID = "standin-client-id"
CLIENT_SECRET = "standin-client-secret"  # noqa: S105 (a test's made-up secret)
VERIFIER = "standin-webhook-verifier"
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 100 * 24 * 3600
HARD_SECONDS = 5 * 365 * 24 * 3600
CDC_MAX_DAYS = 30
CDC_MAX_OBJECTS = 1000
DISCOVERY_PATH = "/.well-known/openid_configuration"

# AccountType -> Classification, as QuickBooks derives it.
CLASSIFICATION = {
    **dict.fromkeys(
        (
            "Bank",
            "Accounts Receivable",
            "Other Current Asset",
            "Fixed Asset",
            "Other Asset",
        ),
        "Asset",
    ),
    **dict.fromkeys(
        (
            "Accounts Payable",
            "Credit Card",
            "Other Current Liability",
            "Long Term Liability",
        ),
        "Liability",
    ),
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Cost of Goods Sold": "Expense",
    "Expense": "Expense",
    "Other Expense": "Expense",
}
PNL = ("Revenue", "Expense")
RE = "RetainedEarnings"
MONTHS = [calendar.month_name[n] for n in range(1, 13)]

# A webhook target: a URL to POST to, or a callable given (raw body, headers)
# that answers an HTTP status (tests post through Django's test client).
WebhookTarget = str | Callable[[bytes, dict[str, str]], int]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Answer(Exception):
    """Raised by a route: answer `status` with `body` (JSON)."""

    def __init__(self, status: int, body: Any, headers: dict | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _fault(status: int, message: str, code: str, detail: str = "") -> Answer:
    return Answer(
        status,
        {
            "Fault": {
                "Error": [
                    {"Message": message, "Detail": detail or message, "code": code}
                ],
                "type": "ValidationFault" if status == 400 else "SystemFault",
            },
            "time": _iso(_now()),
        },
    )


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    received_at: float
    status: int | None = None

    @property
    def request_id(self) -> str | None:
        return self.query.get("requestid")


@dataclass
class Fault:
    method: str | None
    path: str
    status: int | None
    retry_after: str | None
    delay: float
    times: int
    after: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.method in (None, method) and path.startswith(self.path)


@dataclass
class Grant:
    """One consent: a company's tokens for our app."""

    realm: str
    refresh_token: str
    refresh_expires: float
    hard_expires: float
    revoked: bool = False
    refreshes: int = 0


@dataclass
class Company:
    realm: str
    name: str
    objects: dict[str, dict[str, dict]] = field(default_factory=dict)
    reports: dict[str, dict] = field(default_factory=dict)
    request_ids: dict[str, tuple[int, dict]] = field(default_factory=dict)
    next_id: int = 1
    # CompanyInfo.FiscalYearStartMonth: where P&L accounts start again.
    fiscal_year_start_month: int = 1

    def entities(self, name: str) -> dict[str, dict]:
        return self.objects.setdefault(name, {})

    def add(self, entity: str, **fields: Any) -> dict:
        """An object made in QuickBooks (by a person there): Id, SyncToken and
        MetaData filled in. Returns it (the stored dict: change it with `touch`)."""
        now = _iso(_now())
        obj = {
            **fields,
            "Id": str(fields.get("Id") or self._new_id()),
            "SyncToken": "0",
            "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
        }
        self.entities(entity)[obj["Id"]] = obj
        return obj

    def touch(self, entity: str, object_id: str, **changes: Any) -> dict:
        """An edit made in QuickBooks: the SyncToken moves on."""
        obj = self.entities(entity)[object_id]
        obj.update(changes)
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        obj["MetaData"]["LastUpdatedTime"] = _iso(_now())
        return obj

    def void(self, entity: str, object_id: str) -> dict:
        """A person voids a transaction in QuickBooks."""
        obj = self.entities(entity)[object_id]
        _void(obj)
        obj["MetaData"]["LastUpdatedTime"] = _iso(_now())
        return obj

    def delete(self, entity: str, object_id: str) -> dict:
        """A person deletes a transaction in QuickBooks: gone from queries and
        reports; CDC reports it as QuickBooks does, its Id and
        `status: "Deleted"`, no date."""
        obj = {
            "Id": object_id,
            "status": "Deleted",
            "MetaData": {"LastUpdatedTime": _iso(_now())},
        }
        self.entities(entity)[object_id] = obj
        return obj

    def _new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id + 100)

    def add_account(
        self,
        name: str,
        account_type: str,
        subtype: str = "",
        *,
        number: str = "",
        active: bool = True,
    ) -> dict:
        """An Account as QuickBooks keeps it (Classification from its type)."""
        return self.add(
            "Account",
            Name=name,
            FullyQualifiedName=name,
            AcctNum=number,
            AccountType=account_type,
            AccountSubType=subtype,
            Classification=CLASSIFICATION.get(account_type, ""),
            Active=active,
        )

    def post(self, txn_date: str, *lines: tuple[dict, str, str]) -> dict:
        """A JournalEntry dated `txn_date` (YYYY-MM-DD): lines of (account,
        debit, credit) as strings, "" for none. The trial balance report is
        then built from the entries posted up to its `end_date`."""
        return self.add(
            "JournalEntry",
            TxnDate=txn_date,
            Line=[
                {
                    "Id": str(n),
                    "Amount": debit or credit,
                    "DetailType": "JournalEntryLineDetail",
                    "JournalEntryLineDetail": {
                        "PostingType": "Debit" if debit else "Credit",
                        "AccountRef": {"value": account["Id"]},
                    },
                }
                for n, (account, debit, credit) in enumerate(lines)
            ],
        )

    def posted_trial_balance(self, end: str) -> dict:
        """The TrialBalance as at `end` from the journal entries, as QuickBooks
        gives it: balance-sheet accounts since the books began, income and
        expense accounts for the fiscal year to date, earlier years' net
        income in the RetainedEarnings account."""
        day = date.fromisoformat(end)
        month = self.fiscal_year_start_month
        year_start = date(day.year if day.month >= month else day.year - 1, month, 1)
        accounts = self.entities("Account")
        retained = next(
            (a["Id"] for a in accounts.values() if a.get("AccountSubType") == RE),
            None,
        )
        balances: dict[str, Decimal] = {}
        for entry in self.entities("JournalEntry").values():
            if entry.get("status") == "Deleted":
                continue
            posted = date.fromisoformat(entry["TxnDate"])
            if posted > day:
                continue
            for line in entry["Line"]:
                detail = line["JournalEntryLineDetail"]
                account_id = detail["AccountRef"]["value"]
                amount = Decimal(str(line["Amount"]))
                if detail["PostingType"] == "Credit":
                    amount = -amount
                pnl = accounts[account_id].get("Classification") in PNL
                if pnl and posted < year_start and retained:
                    account_id = retained
                balances[account_id] = balances.get(account_id, Decimal(0)) + amount
        rows = []
        for account_id in sorted(balances, key=int):
            balance, account = balances[account_id], accounts[account_id]
            if balance:
                rows.append(
                    (
                        account_id,
                        account.get("FullyQualifiedName") or account["Name"],
                        f"{balance:.2f}" if balance > 0 else "",
                        f"{-balance:.2f}" if balance < 0 else "",
                    )
                )
        report = IntuitStandin.trial_balance_report(rows, end=end)
        report["Header"]["StartPeriod"] = year_start.isoformat()
        return report


class IntuitStandin:
    """Start with `start()` (or as a context manager); see the module's docstring."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.verifier = VERIFIER
        self.companies: dict[str, Company] = {}
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (realm, redirect uri)
        self.grants: list[Grant] = []
        self.access: dict[str, tuple[Grant, float]] = {}
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.access_seconds = ACCESS_SECONDS
        # Accounting API requests being served per company, and the most seen.
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None

    # Life ---------------------------------------------------------------------

    def start(self) -> IntuitStandin:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, name="intuit-standin", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> IntuitStandin:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def discovery_url(self) -> str:
        return self.url + DISCOVERY_PATH

    def reset(self) -> None:
        with self.lock:
            self.companies.clear()
            self.codes.clear()
            self.grants.clear()
            self.access.clear()
            self.requests.clear()
            self.faults.clear()
            self.in_flight.clear()
            self.most_in_flight.clear()
            self.access_seconds = ACCESS_SECONDS

    # Companies and consent ------------------------------------------------------

    def add_company(
        self, realm: str | None = None, name: str = "Stand-in Co"
    ) -> Company:
        realm = realm or str(secrets.randbelow(10**15) + 10**15)
        company = Company(realm=realm, name=name)
        with self.lock:
            self.companies[realm] = company
        return company

    def authorize(self, authorization_url: str, realm: str) -> str:
        """A person consents on Intuit's page for company `realm`: the callback
        URL Intuit sends the browser to (redirect URI + code, state, realmId)."""
        query = dict(parse_qsl(urlsplit(authorization_url).query))
        assert query.get("client_id") == self.client_id, "unknown client id"
        assert realm in self.companies, f"no company {realm}"
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (realm, query["redirect_uri"])
        params = {"code": code, "state": query.get("state", ""), "realmId": realm}
        return f"{query['redirect_uri']}?{urlencode(params)}"

    def grant_for(self, realm: str) -> Grant:
        """The company's latest grant."""
        with self.lock:
            return [g for g in self.grants if g.realm == realm][-1]

    def revoke_company(self, realm: str) -> None:
        """Someone disconnected our app in QuickBooks: every token dies."""
        with self.lock:
            for grant in self.grants:
                if grant.realm == realm:
                    grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far stops working (an early death)."""
        with self.lock:
            self.access = {t: (g, 0.0) for t, (g, _) in self.access.items()}

    # Faults and the record ----------------------------------------------------

    def fail_next(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = 500,
        retry_after: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """The next `times` requests to `path...` (once `after` of them have
        been answered normally) wait `delay` seconds, then answer `status`
        (None: the real answer, late)."""
        with self.lock:
            self.faults.append(
                Fault(method, path, status, retry_after, delay, times, after)
            )

    def requests_to(
        self, path: str, method: str | None = None
    ) -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path) and method in (None, r.method)
            ]

    def token_requests(self, grant_type: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests_to("/oauth2/v1/tokens/bearer")
            if grant_type is None or f"grant_type={grant_type}" in r.body
        ]

    # Webhooks -----------------------------------------------------------------

    @staticmethod
    def cloud_event(
        realm: str,
        entity: str,
        entity_id: str,
        operation: str = "updated",
        *,
        event_id: str | None = None,
    ) -> dict:
        return {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": "intuit.standin",
            "type": f"qbo.{entity.lower()}.{operation}.v1",
            "datacontenttype": "application/json",
            "time": _iso(_now()),
            "intuitentityid": str(entity_id),
            "intuitaccountid": str(realm),
            "data": {},
        }

    def signature(self, body: bytes, verifier: str | None = None) -> str:
        key = (verifier or self.verifier).encode()
        return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()

    def post_webhook(
        self,
        target: WebhookTarget,
        events: list[dict],
        *,
        verifier: str | None = None,
        signature: str | None = None,
        body: bytes | None = None,
    ) -> int:
        """POST `events` as Intuit does; `verifier` signs with another token
        (a forgery), `signature` sends that header as it is, `body` replaces
        the body after signing the events' (a tampered body)."""
        raw = json.dumps(events).encode()
        headers = {
            "Content-Type": "application/json",
            "intuit-signature": signature
            if signature is not None
            else self.signature(raw, verifier),
        }
        raw = body if body is not None else raw
        if callable(target):
            return target(raw, headers)
        request = urllib.request.Request(target, data=raw, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    # Reports --------------------------------------------------------------------

    @staticmethod
    def trial_balance_report(
        rows: list[tuple[str, str, str, str]], *, end: str = "2026-12-31"
    ) -> dict:
        """An Intuit-shaped TrialBalance: rows of (account id, name, debit,
        credit) as strings ("" for none), and Intuit's TOTAL Summary row."""
        debit = sum((Decimal(r[2]) for r in rows if r[2]), Decimal("0"))
        credit = sum((Decimal(r[3]) for r in rows if r[3]), Decimal("0"))
        return {
            "Header": {
                "ReportName": "TrialBalance",
                "StartPeriod": end[:4] + "-01-01",
                "EndPeriod": end,
                "Currency": "USD",
            },
            "Columns": {
                "Column": [
                    {"ColTitle": "", "ColType": "Account"},
                    {"ColTitle": "Debit", "ColType": "Money"},
                    {"ColTitle": "Credit", "ColType": "Money"},
                ]
            },
            "Rows": {
                "Row": [
                    *(
                        {
                            "ColData": [
                                {"value": name, "id": account_id},
                                {"value": dr},
                                {"value": cr},
                            ]
                        }
                        for account_id, name, dr, cr in rows
                    ),
                    {
                        "type": "Section",
                        "group": "GrandTotal",
                        "Summary": {
                            "ColData": [
                                {"value": "TOTAL"},
                                {"value": f"{debit:.2f}"},
                                {"value": f"{credit:.2f}"},
                            ]
                        },
                    },
                ]
            },
        }

    # Serving (called by the handler, under no lock) ------------------------------

    def handle(self, record: RecordedRequest) -> tuple[int, Any, dict]:
        path, method = record.path, record.method
        try:
            if path == DISCOVERY_PATH:
                return 200, self._discovery(), {}
            if path == "/connect/oauth2":
                return self._consent_page(record)
            if path == "/oauth2/v1/tokens/bearer" and method == "POST":
                return 200, self._token(record), {}
            if path == "/oauth2/v1/tokens/revoke" and method == "POST":
                return 200, self._revoke(record), {}
            match = re.fullmatch(r"/v3/company/(\w+)/(.+)", path)
            if match:
                return 200, self._api(record, match[1], match[2]), {}
            raise Answer(404, {"error": "not found"})
        except Answer as answer:
            return answer.status, answer.body, answer.headers

    def _discovery(self) -> dict:
        base = self.url
        return {
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": f"{base}/connect/oauth2",
            "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
        }

    def _consent_page(self, record: RecordedRequest) -> tuple[int, Any, dict]:
        if not self.companies:
            raise Answer(400, {"error": "the stand-in has no company to connect"})
        realm = next(iter(self.companies))
        back = self.authorize(
            f"{self.url}/connect/oauth2?{urlencode(record.query)}", realm
        )
        return 302, None, {"Location": back}

    def _client_ok(self, record: RecordedRequest) -> None:
        expected = base64.b64encode(
            f"{self.client_id}:{self.client_secret}".encode()
        ).decode()
        if record.headers.get("authorization", "") != f"Basic {expected}":
            raise Answer(401, {"error": "invalid_client"})

    def _tokens(self, grant: Grant, record: RecordedRequest) -> dict:
        access = secrets.token_urlsafe(32)
        self.access[access] = (grant, time.time() + self.access_seconds)
        answer = {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": grant.refresh_token,
            "expires_in": self.access_seconds,
            "x_refresh_token_expires_in": int(grant.refresh_expires - time.time()),
        }
        if record.headers.get("x-include-refresh-token-hard-expires-in") == "true":
            answer["x_refresh_token_hard_expires_in"] = int(
                grant.hard_expires - time.time()
            )
        return answer

    def _token(self, record: RecordedRequest) -> dict:
        self._client_ok(record)
        form = dict(parse_qsl(record.body))
        kind = form.get("grant_type")
        with self.lock:
            if kind == "authorization_code":
                found = self.codes.pop(form.get("code", ""), None)
                if found is None or found[1] != form.get("redirect_uri"):
                    raise Answer(400, {"error": "invalid_grant"})
                now = time.time()
                grant = Grant(
                    realm=found[0],
                    refresh_token=secrets.token_urlsafe(32),
                    refresh_expires=now + REFRESH_SECONDS,
                    hard_expires=now + HARD_SECONDS,
                )
                self.grants.append(grant)
                return self._tokens(grant, record)
            if kind == "refresh_token":
                token = form.get("refresh_token", "")
                grant = next((g for g in self.grants if g.refresh_token == token), None)
                now = time.time()
                if (
                    grant is None
                    or grant.revoked
                    or grant.refresh_expires < now
                    or grant.hard_expires < now
                ):
                    raise Answer(400, {"error": "invalid_grant"})
                grant.refresh_token = secrets.token_urlsafe(32)  # rotation
                grant.refresh_expires = min(now + REFRESH_SECONDS, grant.hard_expires)
                grant.refreshes += 1
                return self._tokens(grant, record)
        raise Answer(400, {"error": "unsupported_grant_type"})

    def _revoke(self, record: RecordedRequest) -> dict:
        self._client_ok(record)
        try:
            token = json.loads(record.body or "{}").get("token", "")
        except ValueError:
            raise Answer(400, {"error": "invalid_request"}) from None
        with self.lock:
            for grant in self.grants:
                if grant.refresh_token == token:
                    grant.revoked = True
            if token in self.access:
                self.access[token][0].revoked = True
        return {}

    # The accounting API -----------------------------------------------------------

    def _authorised(self, record: RecordedRequest, realm: str) -> Company:
        token = record.headers.get("authorization", "").removeprefix("Bearer ").strip()
        with self.lock:
            found = self.access.get(token)
            company = self.companies.get(realm)
        if (
            found is None
            or found[1] < time.time()
            or found[0].revoked
            or found[0].realm != realm
            or company is None
        ):
            raise Answer(
                401,
                {
                    "fault": {
                        "error": [
                            {
                                "message": "message=AuthenticationFailed; "
                                "errorCode=003200; statusCode=401",
                                "detail": "Token expired or invalid",
                                "code": "3200",
                            }
                        ],
                        "type": "AUTHENTICATION",
                    }
                },
            )
        return company

    def _api(self, record: RecordedRequest, realm: str, rest: str) -> dict:
        company = self._authorised(record, realm)
        method = record.method
        with self.lock:
            if rest == "query":
                statement = record.query.get("query") or record.body
                return self._query(company, statement)
            if rest == "cdc":
                return self._cdc(company, record.query)
            if rest.startswith("reports/"):
                return self._report(company, rest.split("/", 1)[1], record.query)
            if rest == f"companyinfo/{realm}":
                return {
                    "CompanyInfo": {
                        "CompanyName": company.name,
                        "Id": realm,
                        "FiscalYearStartMonth": MONTHS[
                            company.fiscal_year_start_month - 1
                        ],
                    }
                }
            parts = rest.split("/")
            entity = _entity(parts[0])
            if method == "GET" and len(parts) == 2:
                obj = company.entities(entity).get(parts[1])
                if obj is None:
                    raise _fault(
                        400,
                        "Object Not Found",
                        "610",
                        f"Object Not Found : Something you're trying to use has "
                        f"been made inactive. Check the fields with accounts, "
                        f"customers, items, vendors or employees. {entity} {parts[1]}",
                    )
                return {entity: obj, "time": _iso(_now())}
            if method == "POST" and len(parts) == 1:
                return self._write(company, entity, record)
        raise Answer(404, {"error": "not found"})

    def _write(self, company: Company, entity: str, record: RecordedRequest) -> dict:
        request_id = record.query.get("requestid")
        if request_id and request_id in company.request_ids:
            status, body = company.request_ids[request_id]
            if status != 200:
                raise Answer(status, body)
            return body
        try:
            body = json.loads(record.body or "{}")
        except ValueError:
            raise _fault(
                400, "Request has invalid or unsupported property", "2010"
            ) from None
        try:
            if record.query.get("operation") == "void":
                answer = self._void(company, entity, body)
            else:
                answer = self._apply(company, entity, body)
        except Answer as refused:
            if request_id and refused.status == 400:
                company.request_ids[request_id] = (refused.status, refused.body)
            raise
        if request_id:
            company.request_ids[request_id] = (200, answer)
        return answer

    def _current(self, company: Company, entity: str, body: dict) -> dict:
        """The object an update or void names, read with its current SyncToken."""
        current = company.entities(entity).get(str(body.get("Id")))
        if current is None:
            raise _fault(400, "Object Not Found", "610")
        if str(body.get("SyncToken")) != current["SyncToken"]:
            raise _fault(
                400,
                "Stale Object Error",
                "5010",
                "Stale Object Error : You and root were working on this at "
                "the same time. root finished before you did, so your work "
                "was not saved.",
            )
        return current

    def _void(self, company: Company, entity: str, body: dict) -> dict:
        """`POST <entity>?operation=void`: kept, its amounts zeroed, "Voided"."""
        current = self._current(company, entity, body)
        _void(current)
        current["MetaData"] = {**current["MetaData"], "LastUpdatedTime": _iso(_now())}
        return {entity: current, "time": _iso(_now())}

    def _apply(self, company: Company, entity: str, body: dict) -> dict:
        objects = company.entities(entity)
        now = _iso(_now())
        if body.get("Id"):
            current = self._current(company, entity, body)
            fields = {k: v for k, v in body.items() if k not in ("sparse", "SyncToken")}
            if not body.get("sparse"):
                keep = {"Id", "MetaData", "SyncToken"}
                for key in [k for k in current if k not in keep]:
                    del current[key]
            current.update(fields)
            if entity in TOTALLED and "Line" in body and "TotalAmt" not in body:
                current["TotalAmt"] = _line_total(body)
            current["SyncToken"] = str(int(current["SyncToken"]) + 1)
            current["MetaData"] = {
                **current.get("MetaData", {}),
                "LastUpdatedTime": now,
            }
            return {entity: current, "time": now}
        fields = {k: v for k, v in body.items() if k != "sparse"}
        if entity in (*TOTALLED, "Payment") and "TotalAmt" not in fields:
            # QuickBooks adds the lines up (the total is read-only there).
            fields["TotalAmt"] = _line_total(body)
        obj = {
            **fields,
            "Id": company._new_id(),
            "SyncToken": "0",
            "MetaData": {"CreateTime": now, "LastUpdatedTime": now},
        }
        objects[obj["Id"]] = obj
        return {entity: obj, "time": now}

    def _query(self, company: Company, statement: str) -> dict:
        match = re.fullmatch(
            r"\s*select\s+\*\s+from\s+(\w+)(?:\s+where\s+(.+?))?"
            r"(?:\s+startposition\s+(\d+))?(?:\s+maxresults\s+(\d+))?\s*",
            statement or "",
            re.IGNORECASE,
        )
        if match is None:
            raise _fault(400, "QueryParserError", "4000", f"cannot parse {statement!r}")
        entity = _entity(match[1])
        start = int(match[3] or 1)
        size = min(int(match[4] or 100), 1000)
        found = [
            o
            for o in company.entities(entity).values()
            if o.get("status") != "Deleted" and _where(o, match[2])
        ]
        if entity == "Account" and "active" not in (match[2] or "").lower():
            found = [o for o in found if o.get("Active", True)]
        found.sort(key=lambda o: int(o["Id"]) if o["Id"].isdigit() else 0)
        page = found[start - 1 : start - 1 + size]
        response: dict[str, Any] = {"startPosition": start, "maxResults": len(page)}
        if page:
            response[entity] = page
        return {"QueryResponse": response, "time": _iso(_now())}

    def _cdc(self, company: Company, query: dict[str, str]) -> dict:
        since_text = query.get("changedSince", "")
        try:
            since = datetime.fromisoformat(since_text)
        except ValueError:
            raise _fault(400, "Invalid changedSince", "2010") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        if since < _now() - timedelta(days=CDC_MAX_DAYS):
            raise _fault(
                400,
                "Invalid changedSince",
                "2010",
                "changedSince must be within the last 30 days",
            )
        responses = []
        left = CDC_MAX_OBJECTS
        for name in [e for e in query.get("entities", "").split(",") if e]:
            entity = _entity(name)
            changed = sorted(
                (
                    o
                    for o in company.entities(entity).values()
                    if datetime.fromisoformat(o["MetaData"]["LastUpdatedTime"]) >= since
                ),
                key=lambda o: o["MetaData"]["LastUpdatedTime"],
            )[:left]
            left -= len(changed)
            responses.append(
                {entity: changed, "startPosition": 1, "maxResults": len(changed)}
            )
        return {"CDCResponse": [{"QueryResponse": responses}], "time": _iso(_now())}

    def _report(self, company: Company, name: str, query: dict[str, str]) -> dict:
        end = query.get("end_date", "")
        if f"{name}:{end}" in company.reports:
            return company.reports[f"{name}:{end}"]
        if name in company.reports:
            return company.reports[name]
        if name == "TrialBalance" and end and company.entities("JournalEntry"):
            return company.posted_trial_balance(end)
        if name == "TrialBalance":
            rows = []
            for account in company.entities("Account").values():
                balance = Decimal(str(account.get("CurrentBalance", "0")))
                debit_side = account.get("Classification") in ("Asset", "Expense")
                if balance == 0:
                    continue
                if (balance > 0) == debit_side:
                    rows.append(
                        (account["Id"], account["Name"], f"{abs(balance):.2f}", "")
                    )
                else:
                    rows.append(
                        (account["Id"], account["Name"], "", f"{abs(balance):.2f}")
                    )
            return self.trial_balance_report(rows)
        raise _fault(400, "Unsupported report", "2020", name)


# What QuickBooks totals from the lines (and voids by zeroing them).
TOTALLED = ("Invoice", "CreditMemo")


def _void(obj: dict) -> None:
    """What QuickBooks does to a voided invoice: kept, every amount zero, the
    private note "Voided", the SyncToken on."""
    for line in obj.get("Line") or []:
        line["Amount"] = 0
    obj.update(TotalAmt=0, Balance=0, PrivateNote="Voided")
    obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)


def _line_total(body: dict) -> float:
    """What QuickBooks computes for an invoice or payment: its lines added."""
    lines = body.get("Line") or []
    return float(sum((Decimal(str(x.get("Amount", 0))) for x in lines), Decimal("0")))


def _entity(name: str) -> str:
    """ "customer" or "Customer" -> "Customer" (the API's entity names)."""
    known = {
        "customer": "Customer",
        "invoice": "Invoice",
        "payment": "Payment",
        "account": "Account",
        "item": "Item",
        "creditmemo": "CreditMemo",
        "journalentry": "JournalEntry",
        "companyinfo": "CompanyInfo",
    }
    return known.get(name.lower(), name[:1].upper() + name[1:])


def _field(obj: dict, path: str) -> Any:
    node: Any = obj
    for part in path.split("."):
        if part == "Metadata":
            part = "MetaData"
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _where(obj: dict, clause: str | None) -> bool:
    if not clause:
        return True
    for condition in re.split(r"\s+and\s+", clause, flags=re.IGNORECASE):
        among = re.fullmatch(r"\s*Active\s+in\s*\(([^)]*)\)\s*", condition, re.I)
        if among is not None:
            wanted_set = {v.strip().lower() for v in among[1].split(",")}
            if str(obj.get("Active", True)).lower() not in wanted_set:
                return False
            continue
        match = re.fullmatch(r"\s*([\w.]+)\s*(=|>=|<=|>|<)\s*'(.*)'\s*", condition)
        if match is None:
            raise _fault(400, "QueryParserError", "4000", f"cannot parse {condition!r}")
        value = _field(obj, match[1])
        wanted = match[3].replace("\\'", "'")
        if value is None:
            return False
        value = str(value)
        op = match[2]
        if "Time" in match[1]:
            value_cmp: Any = datetime.fromisoformat(value)
            wanted_cmp: Any = datetime.fromisoformat(wanted)
        else:
            value_cmp, wanted_cmp = value, wanted
        if not {
            "=": value_cmp == wanted_cmp,
            ">": value_cmp > wanted_cmp,
            "<": value_cmp < wanted_cmp,
            ">=": value_cmp >= wanted_cmp,
            "<=": value_cmp <= wanted_cmp,
        }[op]:
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    owner: IntuitStandin
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass  # quiet: the record is `owner.requests`

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        record = RecordedRequest(
            method=method,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            received_at=time.time(),
        )
        owner = self.owner
        fault = None
        company = re.match(r"/v3/company/(\w+)/", split.path)
        realm = company[1] if company else None
        with owner.lock:
            owner.requests.append(record)
            if realm:
                owner.in_flight[realm] = owner.in_flight.get(realm, 0) + 1
                owner.most_in_flight[realm] = max(
                    owner.most_in_flight.get(realm, 0), owner.in_flight[realm]
                )
            for candidate in owner.faults:
                if candidate.times > 0 and candidate.matches(method, split.path):
                    if candidate.after > 0:
                        candidate.after -= 1
                        continue
                    candidate.times -= 1
                    fault = candidate
                    break
        try:
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                headers = (
                    {"Retry-After": fault.retry_after} if fault.retry_after else {}
                )
                status, answer = (
                    fault.status,
                    _fault(fault.status, "Injected fault", str(fault.status)).body,
                )
            else:
                status, answer, headers = owner.handle(record)
        finally:
            if realm:
                with owner.lock:
                    owner.in_flight[realm] -= 1
        record.status = status
        self._send(status, answer, headers)

    def _send(self, status: int, body: Any, headers: dict) -> None:
        raw = b"" if body is None else json.dumps(body, default=str).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
