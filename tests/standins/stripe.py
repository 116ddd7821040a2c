"""A local stand-in for the parts of Stripe's API that AdvisorOS calls.

stripe-mock cannot be installed here and `localstripe` has no Checkout, Billing
Portal or Prices, so this is a small Stripe of our own: a stdlib
`ThreadingHTTPServer` on 127.0.0.1 (a random port) that the real `stripe`
library talks to through `StripeClient(key, base_addresses={"api": url})`.
Requests are form-encoded the way the library sends them (`a[b][0]=v`),
answers are Stripe-shaped JSON (`object`, ids with Stripe's prefixes, amounts in
cents, lowercase currencies, `{"error": {...}}` with the right HTTP status), so
the library raises its own exceptions (`InvalidRequestError`,
`IdempotencyError`, `AuthenticationError`, `APIConnectionError` on a timeout).

What it serves (all per account, that is per secret key):

- `GET /v1/account`, `GET /v1/balance`: the key check.
- customers, products, prices: create, retrieve, update (customers), list.
- checkout sessions, mode `payment` and `subscription`: create, retrieve (with
  `expand`), list, expire, line items. Each has a hosted page on the stand-in
  itself, `GET /checkout/<id>`, with "Pay by card" and "Pay by bank account"
  buttons (the session's `payment_method_types`): paying completes the session,
  POSTs the signed events to the account's webhook target, then redirects to
  the session's `success_url`. A card is paid at once; a US bank account
  (ACH) completes `payment_status=unpaid` with its payment intent
  `processing`, and is settled later on demand (`settle`).
- payment intents and charges: retrieve.
- refunds: create (never beyond what the charge has left: a Stripe-shaped
  400), retrieve, list.
- subscriptions: create, retrieve, update, cancel, list; their invoices.
- billing portal sessions: create (`GET /billing_portal/<id>` is a small page
  with a way back and a "Cancel plan" button).
- events: retrieve.

Idempotency keys are honoured as Stripe does: the same key with the same
parameters replays the first answer (header `Idempotent-Replayed: true`), the
same key with other parameters (or on another endpoint) is a 400
`idempotency_error`, and a retry that arrives while the first request is
still being served is a 409 `idempotency_error`. Only successful answers are
kept, as Stripe keeps no result for a request refused by validation.

Every request is recorded (`requests`: method, path, parameters, idempotency
key, key used, status), and faults can be queued (`fail_next`: an error status,
or a delay longer than the client's timeout).

Events: each state change makes Stripe-shaped events (`event`), kept per
account (`GET /v1/events/<id>`); `deliver` signs them with
`stripe.WebhookSignature.generate_signature_header` and POSTs them to a URL (or
hands them to a callable, for Django's test client), with options for a stale
timestamp, a wrong secret, duplicates and reversed order. The account's
`webhook_target` receives what the hosted pages and the test helpers
(`complete_checkout`, `settle`, `refund_from_dashboard`, `subscription_renew`
...) produce.
"""

from __future__ import annotations

import copy
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from stripe._api_version import _ApiVersion

API_VERSION = _ApiVersion.CURRENT
CHECKOUT_EXPIRES_SECONDS = 24 * 60 * 60
STALE_SECONDS = 600  # twice Stripe's default tolerance of 300 s
PAYMENT_METHOD_TYPES = ("card", "us_bank_account")
MINIMUM_AMOUNT = 50  # Stripe's smallest charge in USD cents

# A webhook target: a URL to POST to, or a callable given (raw body, headers)
# that answers an HTTP status (tests post through Django's test client).
WebhookTarget = str | Callable[[bytes, dict[str, str]], int]


class StripeError(Exception):
    """Answered as Stripe's error object with `status`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 (Stripe's own name)
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                k: v
                for k, v in {
                    "type": type,
                    "message": message,
                    "code": code,
                    "param": param,
                }.items()
                if v is not None
            }
        }


def _missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def _required(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


# Form encoding -------------------------------------------------------------------

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back into nested dicts and lists:
    `line_items[0][price_data][unit_amount]=5000` -> {"line_items": [{...}]}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        parts = [head, *_KEY_PART.findall(key[len(head) :])]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        last = parts[-1]
        if last == "":  # `expand[]=x`: appended
            last = str(len(node))
        node[last] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def _int(params: dict, name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise _required(name)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeError(
            400,
            f"Invalid integer: {value}",
            code="parameter_invalid_integer",
            param=name,
        ) from None
    if number < 0:
        raise StripeError(
            400,
            f"This value must be greater than or equal to 0 ({name}).",
            code="parameter_invalid_integer",
            param=name,
        )
    return number


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


def _metadata(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", param="metadata")
    return {k: str(v) for k, v in value.items() if v != ""}


# The record ----------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    api_key: str | None
    stripe_version: str | None
    received_at: float
    status: int | None = None  # None: never answered (a delay past the timeout)
    replayed: bool = False


@dataclass
class Fault:
    method: str | None  # None: any
    path: str  # a prefix of the request's path
    status: int | None = None  # answer this error instead of the real thing
    delay: float = 0.0  # seconds to wait first (past the client's timeout?)
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and path.startswith(self.path)


@dataclass
class Delivery:
    event_id: str
    type: str
    status: int
    body: bytes = b""


@dataclass
class Account:
    id: str
    secret_key: str
    webhook_secret: str
    name: str = "Stand-in merchant"
    webhook_target: WebhookTarget | None = None
    objects: dict[str, dict] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    idempotency: dict[str, tuple[str, str, int, dict]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)

    def get(self, object_id: str, kind: str) -> dict:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise _missing(kind, object_id)
        return obj

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.objects.values() if o["object"] == kind]


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def render(obj: Any) -> Any:
    """An object as Stripe answers it: without the stand-in's own `_` keys."""
    if isinstance(obj, dict):
        return {k: render(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [render(v) for v in obj]
    return obj


# The stand-in ----------------------------------------------------------------------


class StripeStandin:
    """Start with `start()` (or as a context manager); `url` is the API base."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}  # by secret key
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.in_flight: set[tuple[str | None, str | None]] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Life ---------------------------------------------------------------------

    def start(self) -> StripeStandin:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="stripe-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StripeStandin:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget every account, object, request and fault (between tests)."""
        with self.lock:
            self.accounts.clear()
            self.requests.clear()
            self.faults.clear()
            self.in_flight.clear()

    # Accounts -----------------------------------------------------------------

    def add_account(
        self,
        secret_key: str | None = None,
        *,
        webhook_secret: str | None = None,
        webhook_target: WebhookTarget | None = None,
        name: str = "Stand-in merchant",
    ) -> Account:
        """A Stripe account answering to `secret_key` (made up when not given)."""
        account = Account(
            id=_new_id("acct"),
            secret_key=secret_key or f"sk_test_{secrets.token_hex(16)}",
            webhook_secret=webhook_secret or f"whsec_{secrets.token_hex(16)}",
            webhook_target=webhook_target,
            name=name,
        )
        with self.lock:
            self.accounts[account.secret_key] = account
        return account

    def account(self, secret_key: str) -> Account:
        return self.accounts[secret_key]

    # Faults and the record ----------------------------------------------------

    def fail_next(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = 500,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """The next `times` requests to `path...` wait `delay` seconds, then
        answer `status` (None: the real answer, late)."""
        with self.lock:
            self.faults.append(Fault(method, path, status, delay, times))

    def wait_for_answers(self, timeout: float = 10.0) -> None:
        """Until every request received so far has been answered (a request
        the client gave up on is still being served, as at Stripe)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(r.status is not None for r in self.requests):
                    return
            time.sleep(0.02)
        raise TimeoutError("the stand-in is still answering")

    def requests_to(
        self, path: str, method: str | None = None
    ) -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path) and method in (None, r.method)
            ]

    # Events -------------------------------------------------------------------

    def event(
        self,
        account: Account,
        type: str,  # noqa: A002
        obj: dict,
        *,
        previous_attributes: dict | None = None,
    ) -> dict:
        """A Stripe event about (a snapshot of) `obj`, kept by the account."""
        data: dict[str, Any] = {"object": render(copy.deepcopy(obj))}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }
        with self.lock:
            account.events.append(event)
            account.objects[event["id"]] = event
        return event

    @staticmethod
    def sign(
        event: dict, secret: str, *, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """The raw body and its `Stripe-Signature` header, as Stripe sends them."""
        payload = json.dumps(event, indent=2)
        header = stripe.WebhookSignature.generate_signature_header(
            payload, secret, timestamp=timestamp
        )
        return payload.encode(), header

    def deliver(
        self,
        events: Iterable[dict],
        *,
        account: Account | None = None,
        to: WebhookTarget | None = None,
        secret: str | None = None,
        stale: bool = False,
        wrong_secret: bool = False,
        times: int = 1,
        reverse: bool = False,
    ) -> list[Delivery]:
        """Sign and send `events` to `to` (default: the account's target).

        `stale` signs them 10 minutes in the past, `wrong_secret` with a secret
        that is not the account's; `times` sends each so many times (Stripe
        retries, duplicates), one after the other; `reverse` sends them last
        first (out of order). Returns each delivery's status.
        """
        events = list(events)
        if reverse:
            events.reverse()
        if account is None and (to is None or secret is None):
            raise ValueError("name the account, or both `to` and `secret`")
        target = to if to is not None else account.webhook_target
        if target is None:
            raise ValueError("no webhook target for this account")
        secret = secret or account.webhook_secret
        if wrong_secret:
            secret = f"whsec_wrong_{secrets.token_hex(8)}"
        timestamp = int(time.time()) - STALE_SECONDS if stale else None
        done = []
        for event in events:
            for _ in range(times):
                body, header = self.sign(event, secret, timestamp=timestamp)
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": header,
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                }
                status, answer = _post(target, body, headers)
                delivery = Delivery(event["id"], event["type"], status, answer)
                done.append(delivery)
                if account is not None:
                    with self.lock:
                        account.deliveries.append(delivery)
        return done

    def _deliver_quietly(self, account: Account, events: list[dict]) -> None:
        """What the hosted pages send: to the account's target, if it has one."""
        if account.webhook_target is not None and events:
            self.deliver(events, account=account)

    # Checkout -----------------------------------------------------------------

    def complete_checkout(
        self,
        session_id: str,
        method: str = "card",
        *,
        account: Account | None = None,
        deliver: bool = False,
    ) -> list[dict]:
        """The customer pays session `session_id` on the hosted page with `method`
        (card: paid now; us_bank_account: `unpaid` until `settle`). Returns the
        events (and delivers them to the account's target if `deliver`)."""
        with self.lock:
            account = account or self._owner_of(session_id)
            events = self._complete_checkout(account, session_id, method)
        if deliver:
            self._deliver_quietly(account, events)
        return events

    def settle(
        self,
        session_id: str,
        *,
        succeeded: bool = True,
        account: Account | None = None,
        deliver: bool = False,
    ) -> list[dict]:
        """A bank debit (ACH) of a completed session arrives, or fails: the
        `checkout.session.async_payment_succeeded|failed` events."""
        with self.lock:
            account = account or self._owner_of(session_id)
            events = self._settle(account, session_id, succeeded)
        if deliver:
            self._deliver_quietly(account, events)
        return events

    def expire_checkout(self, session_id: str, *, deliver: bool = False) -> list[dict]:
        """A session's 24 hours pass (`checkout.session.expired`)."""
        with self.lock:
            account = self._owner_of(session_id)
            session = account.get(session_id, "checkout.session")
            events = self._expire(account, session)
        if deliver:
            self._deliver_quietly(account, events)
        return events

    def refund_from_dashboard(
        self,
        payment_intent: str,
        amount: int | None = None,
        *,
        deliver: bool = False,
        pending: bool = False,
    ) -> tuple[dict, list[dict]]:
        """Someone refunds in Stripe's dashboard: the refund and its events.
        `pending`: the money is still on its way back (a bank debit's refund)."""
        with self.lock:
            account = self._owner_of(payment_intent)
            refund = self._refund(
                account, {"payment_intent": payment_intent, "amount": amount}
            )
            events = refund.pop("_events")
            if pending:
                refund["status"] = "pending"
        if deliver:
            self._deliver_quietly(account, events)
        return render(refund), events

    def refund_fail(self, refund_id: str, *, deliver: bool = False) -> list[dict]:
        """The bank sends a pending refund back: `refund.failed`, and the charge
        has that much unrefunded again."""
        with self.lock:
            account = self._owner_of(refund_id)
            refund = account.get(refund_id, "refund")
            previous = {"status": refund["status"]}
            refund["status"] = "failed"
            refund["failure_reason"] = "expired_or_canceled_card"
            charge = account.objects[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            events = [
                self.event(account, "refund.failed", refund),
                self.event(
                    account, "refund.updated", refund, previous_attributes=previous
                ),
            ]
        if deliver:
            self._deliver_quietly(account, events)
        return events

    # Subscriptions ------------------------------------------------------------

    def subscription_renew(
        self, subscription_id: str, *, paid: bool = True, deliver: bool = False
    ) -> list[dict]:
        """The next period's invoice: paid (`invoice.paid`, active) or not
        (`invoice.payment_failed`, the subscription turns `past_due`)."""
        with self.lock:
            account = self._owner_of(subscription_id)
            sub = account.get(subscription_id, "subscription")
            now = int(time.time())
            length = sub["_period_seconds"]
            previous = {"status": sub["status"]}
            for item in sub["items"]["data"]:
                item["current_period_start"] = now
                item["current_period_end"] = now + length
            invoice = self._invoice(account, sub, paid=paid)
            events = [self.event(account, "invoice.created", invoice)]
            sub["latest_invoice"] = invoice["id"]
            sub["status"] = "active" if paid else "past_due"
            if paid:
                events.append(self.event(account, "invoice.paid", invoice))
                events.append(self.event(account, "invoice.payment_succeeded", invoice))
            else:
                events.append(self.event(account, "invoice.payment_failed", invoice))
            if previous["status"] != sub["status"]:
                events.append(
                    self.event(
                        account,
                        "customer.subscription.updated",
                        sub,
                        previous_attributes=previous,
                    )
                )
        if deliver:
            self._deliver_quietly(account, events)
        return events

    def subscription_set_status(
        self, subscription_id: str, status: str, *, deliver: bool = False
    ) -> list[dict]:
        """Any status change (`customer.subscription.updated`, or `.deleted`
        for `canceled`)."""
        with self.lock:
            account = self._owner_of(subscription_id)
            sub = account.get(subscription_id, "subscription")
            events = self._subscription_status(account, sub, status)
        if deliver:
            self._deliver_quietly(account, events)
        return events

    # Internals ----------------------------------------------------------------

    def _owner_of(self, object_id: str) -> Account:
        for account in self.accounts.values():
            if object_id in account.objects:
                return account
        raise KeyError(f"no account has {object_id}")

    def _store(self, account: Account, obj: dict) -> dict:
        account.objects[obj["id"]] = obj
        return obj

    def _customer(self, account: Account, params: dict) -> dict:
        return self._store(
            account,
            {
                "id": _new_id("cus"),
                "object": "customer",
                "created": int(time.time()),
                "email": params.get("email") or None,
                "name": params.get("name") or None,
                "description": params.get("description") or None,
                "metadata": _metadata(params.get("metadata")),
                "livemode": False,
            },
        )

    def _product(self, account: Account, params: dict) -> dict:
        if not params.get("name"):
            raise _required("name")
        return self._store(
            account,
            {
                "id": params.get("id") or _new_id("prod"),
                "object": "product",
                "active": True,
                "created": int(time.time()),
                "name": params["name"],
                "description": params.get("description") or None,
                "metadata": _metadata(params.get("metadata")),
                "livemode": False,
            },
        )

    def _price(self, account: Account, params: dict) -> dict:
        currency = (params.get("currency") or "").lower()
        if not currency:
            raise _required("currency")
        unit_amount = _int(params, "unit_amount", required=True)
        if params.get("product_data"):
            product = self._product(account, params["product_data"])["id"]
        elif params.get("product"):
            product = account.get(params["product"], "product")["id"]
        else:
            raise _required("product")
        recurring = params.get("recurring") or None
        if recurring is not None:
            interval = recurring.get("interval")
            if interval not in ("day", "week", "month", "year"):
                raise StripeError(
                    400, "Invalid recurring[interval]", param="recurring[interval]"
                )
            recurring = {
                "interval": interval,
                "interval_count": int(recurring.get("interval_count") or 1),
                "usage_type": "licensed",
            }
        return self._store(
            account,
            {
                "id": _new_id("price"),
                "object": "price",
                "active": True,
                "created": int(time.time()),
                "currency": currency,
                "unit_amount": unit_amount,
                "product": product,
                "recurring": recurring,
                "type": "recurring" if recurring else "one_time",
                "lookup_key": params.get("lookup_key") or None,
                "nickname": params.get("nickname") or None,
                "metadata": _metadata(params.get("metadata")),
                "livemode": False,
            },
        )

    def _line_items(self, account: Account, items: Any) -> list[dict]:
        if not items or not isinstance(items, list):
            raise _required("line_items")
        lines = []
        for i, item in enumerate(items):
            quantity = _int(item, "quantity") or 1
            if item.get("price"):
                price = account.get(item["price"], "price")
            elif item.get("price_data"):
                price = self._price(account, item["price_data"])
            else:
                raise _required(f"line_items[{i}][price]")
            product = account.objects.get(price["product"], {})
            lines.append(
                {
                    "id": _new_id("li"),
                    "object": "item",
                    "amount_subtotal": price["unit_amount"] * quantity,
                    "amount_total": price["unit_amount"] * quantity,
                    "currency": price["currency"],
                    "description": product.get("name"),
                    "price": copy.deepcopy(price),
                    "quantity": quantity,
                }
            )
        if len({line["currency"] for line in lines}) > 1:
            raise StripeError(
                400, "All line items must have the same currency.", param="line_items"
            )
        return lines

    def _checkout_create(self, account: Account, params: dict) -> dict:
        mode = params.get("mode")
        if mode not in ("payment", "subscription"):
            if not mode:
                raise _required("mode")
            raise StripeError(400, f"Invalid mode: {mode}", param="mode")
        if not params.get("success_url"):
            raise _required("success_url")
        lines = self._line_items(account, params.get("line_items"))
        currency = lines[0]["currency"]
        total = sum(line["amount_total"] for line in lines)
        methods = params.get("payment_method_types") or ["card"]
        if not isinstance(methods, list):
            raise StripeError(400, "Invalid array", param="payment_method_types")
        for method in methods:
            if method not in PAYMENT_METHOD_TYPES:
                raise StripeError(
                    400,
                    f"The payment method type provided: {method} is invalid.",
                    param="payment_method_types",
                )
        if "us_bank_account" in methods and currency != "usd":
            raise StripeError(
                400,
                "The payment method `us_bank_account` cannot be used with "
                f"currency `{currency}`.",
                param="payment_method_types",
            )
        recurring = [line for line in lines if line["price"]["recurring"]]
        if mode == "subscription" and not recurring:
            raise StripeError(
                400,
                "You must provide at least one recurring price in `subscription` "
                "mode when using prices.",
                param="line_items",
            )
        if mode == "payment" and recurring:
            raise StripeError(
                400,
                "You specified `payment` mode but passed a recurring price.",
                param="line_items",
            )
        if mode == "payment" and total < MINIMUM_AMOUNT:
            raise StripeError(
                400,
                "The Checkout Session's total amount due must add up to at least "
                "$0.50 usd",
                code="amount_too_small",
                param="line_items",
            )
        customer = params.get("customer") or None
        if customer:
            account.get(customer, "customer")
        now = int(time.time())
        expires_at = _int(params, "expires_at") or now + CHECKOUT_EXPIRES_SECONDS
        session_id = f"cs_test_{secrets.token_hex(16)}"
        return self._store(
            account,
            {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": params.get("cancel_url") or None,
                "client_reference_id": params.get("client_reference_id") or None,
                "created": now,
                "currency": currency,
                "customer": customer,
                "customer_email": params.get("customer_email") or None,
                "expires_at": expires_at,
                "invoice": None,
                "livemode": False,
                "metadata": _metadata(params.get("metadata")),
                "mode": mode,
                "payment_intent": None,
                "payment_method_types": methods,
                "payment_status": "unpaid",
                "status": "open",
                "subscription": None,
                "success_url": params["success_url"],
                "url": f"{self.url}/checkout/{session_id}",
                "_line_items": lines,
                "_payment_intent_metadata": _metadata(
                    (params.get("payment_intent_data") or {}).get("metadata")
                ),
                "_subscription_data": params.get("subscription_data") or {},
            },
        )

    def _expire(self, account: Account, session: dict) -> list[dict]:
        if session["status"] != "open":
            raise StripeError(
                400, 'Only Checkout Sessions with a status in ["open"] can be expired.'
            )
        session["status"] = "expired"
        session["url"] = None
        return [self.event(account, "checkout.session.expired", session)]

    def _complete_checkout(
        self, account: Account, session_id: str, method: str
    ) -> list[dict]:
        session = account.get(session_id, "checkout.session")
        if session["status"] != "open":
            raise StripeError(400, f"This Checkout Session is {session['status']}.")
        if method not in session["payment_method_types"]:
            raise StripeError(400, f"{method} is not offered by this session.")
        if session["expires_at"] < time.time():
            self._expire(account, session)
            raise StripeError(400, "This Checkout Session has expired.")
        if session["mode"] == "subscription":
            return self._complete_subscription_checkout(account, session)
        now = int(time.time())
        paid = method == "card"
        charge_id, intent_id = _new_id("ch"), _new_id("pi")
        customer = session["customer"]
        self._store(
            account,
            {
                "id": charge_id,
                "object": "charge",
                "amount": session["amount_total"],
                "amount_captured": session["amount_total"],
                "amount_refunded": 0,
                "created": now,
                "currency": session["currency"],
                "customer": customer,
                "livemode": False,
                "metadata": dict(session["_payment_intent_metadata"]),
                "paid": paid,
                "payment_intent": intent_id,
                "payment_method_details": {"type": method},
                "refunded": False,
                "status": "succeeded" if paid else "pending",
            },
        )
        intent = self._store(
            account,
            {
                "id": intent_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": session["amount_total"] if paid else 0,
                "created": now,
                "currency": session["currency"],
                "customer": customer,
                "last_payment_error": None,
                "latest_charge": charge_id,
                "livemode": False,
                "metadata": dict(session["_payment_intent_metadata"]),
                "payment_method_types": [method],
                "status": "succeeded" if paid else "processing",
            },
        )
        session["status"] = "complete"
        session["payment_status"] = "paid" if paid else "unpaid"
        session["payment_intent"] = intent_id
        session["url"] = None
        events = [
            self.event(
                account,
                "charge.succeeded" if paid else "charge.pending",
                account.objects[charge_id],
            ),
            self.event(
                account,
                "payment_intent.succeeded" if paid else "payment_intent.processing",
                intent,
            ),
            self.event(account, "checkout.session.completed", session),
        ]
        return events

    def _settle(self, account: Account, session_id: str, succeeded: bool) -> list[dict]:
        session = account.get(session_id, "checkout.session")
        intent = account.objects.get(session["payment_intent"] or "")
        if session["status"] != "complete" or intent is None:
            raise StripeError(400, "This session is not completed.")
        if intent["status"] != "processing":
            raise StripeError(
                400, f"The payment is {intent['status']}, not processing."
            )
        charge = account.objects[intent["latest_charge"]]
        if succeeded:
            intent["status"] = "succeeded"
            intent["amount_received"] = intent["amount"]
            charge["status"] = "succeeded"
            charge["paid"] = True
            session["payment_status"] = "paid"
            return [
                self.event(account, "charge.succeeded", charge),
                self.event(account, "payment_intent.succeeded", intent),
                self.event(
                    account, "checkout.session.async_payment_succeeded", session
                ),
            ]
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = {
            "code": "payment_method_provider_decline",
            "message": "The customer's bank account could not be debited.",
            "type": "card_error",
        }
        charge["status"] = "failed"
        charge["failure_message"] = "The customer's bank account could not be debited."
        return [
            self.event(account, "charge.failed", charge),
            self.event(account, "payment_intent.payment_failed", intent),
            self.event(account, "checkout.session.async_payment_failed", session),
        ]

    def _refund(self, account: Account, params: dict) -> dict:
        if params.get("charge"):
            charge = account.get(params["charge"], "charge")
        elif params.get("payment_intent"):
            intent = account.get(params["payment_intent"], "payment_intent")
            charge = account.objects[intent["latest_charge"]]
        else:
            raise StripeError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        if charge["status"] != "succeeded":
            raise StripeError(
                400,
                f"Charge {charge['id']} has not succeeded and cannot be refunded.",
                code="charge_not_refundable",
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            raise StripeError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int(params, "amount")
        if amount is None:
            amount = left
        if amount <= 0:
            raise StripeError(400, "Amount must be positive.", param="amount")
        if amount > left:
            raise StripeError(
                400,
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded "
                f"amount on charge (${left / 100:.2f})",
                code="amount_too_large",
                param="amount",
            )
        refund = self._store(
            account,
            {
                "id": _new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": charge["currency"],
                "metadata": _metadata(params.get("metadata")),
                "payment_intent": charge["payment_intent"],
                "reason": params.get("reason") or None,
                "status": "succeeded",
            },
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
        refund["_events"] = [
            self.event(account, "refund.created", refund),
            self.event(
                account,
                "charge.refunded",
                charge,
                previous_attributes={
                    "amount_refunded": charge["amount_refunded"] - amount
                },
            ),
        ]
        return refund

    def _period_seconds(self, price: dict) -> int:
        recurring = price["recurring"] or {"interval": "month", "interval_count": 1}
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[recurring["interval"]]
        return days * recurring["interval_count"] * 24 * 60 * 60

    def _subscription(self, account: Account, params: dict) -> dict:
        customer = params.get("customer")
        if not customer:
            raise _required("customer")
        account.get(customer, "customer")
        items = params.get("items")
        if not items or not isinstance(items, list):
            raise _required("items")
        now = int(time.time())
        trial_days = _int(params, "trial_period_days") or 0
        sub_items, length = [], 30 * 24 * 60 * 60
        for i, item in enumerate(items):
            if item.get("price"):
                price = account.get(item["price"], "price")
            elif item.get("price_data"):
                price = self._price(
                    account,
                    {
                        **item["price_data"],
                        "product": item["price_data"].get("product"),
                    },
                )
            else:
                raise _required(f"items[{i}][price]")
            if not price["recurring"]:
                raise StripeError(
                    400,
                    "The price specified is set to `type=one_time` but this field "
                    "only accepts prices with `type=recurring`.",
                    param=f"items[{i}][price]",
                )
            length = self._period_seconds(price)
            sub_items.append(
                {
                    "id": _new_id("si"),
                    "object": "subscription_item",
                    "price": copy.deepcopy(price),
                    "quantity": _int(item, "quantity") or 1,
                    "current_period_start": now,
                    "current_period_end": now + (trial_days * 86400 or length),
                }
            )
        sub_id = _new_id("sub")
        status = "trialing" if trial_days else "active"
        if params.get("payment_behavior") == "default_incomplete" and not trial_days:
            status = "incomplete"
        sub = self._store(
            account,
            {
                "id": sub_id,
                "object": "subscription",
                "cancel_at_period_end": False,
                "canceled_at": None,
                "created": now,
                "currency": sub_items[0]["price"]["currency"],
                "customer": customer,
                "items": {
                    "object": "list",
                    "data": sub_items,
                    "has_more": False,
                    "url": f"/v1/subscription_items?subscription={sub_id}",
                },
                "latest_invoice": None,
                "livemode": False,
                "metadata": _metadata(params.get("metadata")),
                "status": status,
                "trial_end": now + trial_days * 86400 if trial_days else None,
                "trial_start": now if trial_days else None,
                "_period_seconds": length,
            },
        )
        invoice = self._invoice(account, sub, paid=status != "incomplete")
        sub["latest_invoice"] = invoice["id"]
        events = [
            self.event(account, "customer.subscription.created", sub),
            self.event(account, "invoice.created", invoice),
        ]
        if invoice["status"] == "paid":
            events.append(self.event(account, "invoice.paid", invoice))
        sub["_events"] = events
        return sub

    def _invoice(self, account: Account, sub: dict, *, paid: bool) -> dict:
        trialing = sub["status"] == "trialing"
        amount = (
            0
            if trialing
            else sum(
                i["price"]["unit_amount"] * i["quantity"] for i in sub["items"]["data"]
            )
        )
        now = int(time.time())
        period_end = max(i["current_period_end"] for i in sub["items"]["data"])
        return self._store(
            account,
            {
                "id": _new_id("in"),
                "object": "invoice",
                "amount_due": amount,
                "amount_paid": amount if paid else 0,
                "amount_remaining": 0 if paid else amount,
                "billing_reason": "subscription_cycle",
                "created": now,
                "currency": sub["currency"],
                "customer": sub["customer"],
                "livemode": False,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {
                        "subscription": sub["id"],
                        "metadata": dict(sub["metadata"]),
                    },
                },
                "period_end": period_end,
                "period_start": now,
                "status": "paid" if paid else "open",
                "subscription": sub["id"],
                "hosted_invoice_url": f"{self.url}/invoice/{sub['id']}",
            },
        )

    def _subscription_status(
        self, account: Account, sub: dict, status: str
    ) -> list[dict]:
        previous = {"status": sub["status"]}
        sub["status"] = status
        if status == "canceled":
            sub["canceled_at"] = int(time.time())
            return [self.event(account, "customer.subscription.deleted", sub)]
        return [
            self.event(
                account,
                "customer.subscription.updated",
                sub,
                previous_attributes=previous,
            )
        ]

    def _complete_subscription_checkout(
        self, account: Account, session: dict
    ) -> list[dict]:
        customer = session["customer"]
        events = []
        if not customer:
            cust = self._customer(account, {"email": session["customer_email"]})
            customer = cust["id"]
            events.append(self.event(account, "customer.created", cust))
        data = session["_subscription_data"]
        sub = self._subscription(
            account,
            {
                "customer": customer,
                "items": [
                    {"price": line["price"]["id"], "quantity": line["quantity"]}
                    for line in session["_line_items"]
                ],
                "trial_period_days": data.get("trial_period_days"),
                "metadata": data.get("metadata") or session["metadata"],
            },
        )
        events += sub.pop("_events")
        session.update(
            status="complete",
            payment_status="no_payment_required"
            if sub["status"] == "trialing"
            else "paid",
            customer=customer,
            subscription=sub["id"],
            invoice=sub["latest_invoice"],
            url=None,
        )
        events.append(self.event(account, "checkout.session.completed", session))
        return events

    # Expansion and lists --------------------------------------------------------

    def _expand(self, account: Account, obj: dict, paths: list[str]) -> dict:
        out = render(copy.deepcopy(obj))
        for path in paths:
            if obj.get("object") == "checkout.session" and path == "line_items":
                out["line_items"] = _list(render(obj["_line_items"]), "/v1/line_items")
                continue
            self._expand_path(account, out, path.split("."))
        return out

    def _expand_path(self, account: Account, node: dict, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        value = node.get(head)
        if isinstance(value, str) and value in account.objects:
            node[head] = value = render(copy.deepcopy(account.objects[value]))
        if isinstance(value, dict):
            if value.get("object") == "list":
                for item in value.get("data", []):
                    self._expand_path(account, item, rest)
            else:
                self._expand_path(account, value, rest)

    def _list(self, account: Account, kind: str, params: dict, url: str) -> dict:
        rows = account.of_kind(kind)
        filters = {
            k: v
            for k, v in params.items()
            if k not in ("limit", "starting_after", "ending_before", "expand")
            and isinstance(v, str)
        }
        rows = [r for r in rows if all(str(r.get(k)) == v for k, v in filters.items())]
        rows.sort(key=lambda r: r.get("created", 0), reverse=True)
        limit = _int(params, "limit") or 10
        expand = [p.removeprefix("data.") for p in params.get("expand") or []]
        data = [self._expand(account, r, expand) for r in rows[:limit]]
        result = _list(data, url)
        result["has_more"] = len(rows) > limit
        return result


def _list(data: list, url: str) -> dict:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def _post(target: WebhookTarget, body: bytes, headers: dict[str, str]):
    if callable(target):
        return target(body, headers), b""
    request = urllib.request.Request(target, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# HTTP ------------------------------------------------------------------------------

ROUTES: list[tuple[str, re.Pattern, str]] = [
    (m, re.compile(p), name)
    for m, p, name in [
        ("GET", r"^/v1/account$", "account"),
        ("GET", r"^/v1/balance$", "balance"),
        ("POST", r"^/v1/customers$", "customer_create"),
        ("GET", r"^/v1/customers$", "customer_list"),
        ("GET", r"^/v1/customers/(?P<id>[\w]+)$", "customer_get"),
        ("POST", r"^/v1/customers/(?P<id>[\w]+)$", "customer_update"),
        ("POST", r"^/v1/products$", "product_create"),
        ("GET", r"^/v1/products$", "product_list"),
        ("GET", r"^/v1/products/(?P<id>[\w]+)$", "product_get"),
        ("POST", r"^/v1/prices$", "price_create"),
        ("GET", r"^/v1/prices$", "price_list"),
        ("GET", r"^/v1/prices/(?P<id>[\w]+)$", "price_get"),
        ("POST", r"^/v1/checkout/sessions$", "checkout_create"),
        ("GET", r"^/v1/checkout/sessions$", "checkout_list"),
        ("GET", r"^/v1/checkout/sessions/(?P<id>[\w]+)$", "checkout_get"),
        ("POST", r"^/v1/checkout/sessions/(?P<id>[\w]+)/expire$", "checkout_expire"),
        (
            "GET",
            r"^/v1/checkout/sessions/(?P<id>[\w]+)/line_items$",
            "checkout_line_items",
        ),
        ("GET", r"^/v1/payment_intents/(?P<id>[\w]+)$", "payment_intent_get"),
        ("GET", r"^/v1/charges/(?P<id>[\w]+)$", "charge_get"),
        ("POST", r"^/v1/refunds$", "refund_create"),
        ("GET", r"^/v1/refunds$", "refund_list"),
        ("GET", r"^/v1/refunds/(?P<id>[\w]+)$", "refund_get"),
        ("POST", r"^/v1/subscriptions$", "subscription_create"),
        ("GET", r"^/v1/subscriptions$", "subscription_list"),
        ("GET", r"^/v1/subscriptions/(?P<id>[\w]+)$", "subscription_get"),
        ("POST", r"^/v1/subscriptions/(?P<id>[\w]+)$", "subscription_update"),
        ("DELETE", r"^/v1/subscriptions/(?P<id>[\w]+)$", "subscription_cancel"),
        ("GET", r"^/v1/invoices$", "invoice_list"),
        ("GET", r"^/v1/invoices/(?P<id>[\w]+)$", "invoice_get"),
        ("POST", r"^/v1/billing_portal/sessions$", "portal_create"),
        ("GET", r"^/v1/events/(?P<id>[\w]+)$", "event_get"),
    ]
]

KINDS = {
    "customer": "customer",
    "product": "product",
    "price": "price",
    "checkout": "checkout.session",
    "payment_intent": "payment_intent",
    "charge": "charge",
    "refund": "refund",
    "subscription": "subscription",
    "invoice": "invoice",
    "event": "event",
}


def _route(method: str, path: str) -> tuple[str, re.Match] | None:
    for route_method, pattern, name in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return name, match
    return None


class _Handler(BaseHTTPRequestHandler):
    owner: StripeStandin
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass  # quiet: the record is `owner.requests`

    def do_GET(self):  # noqa: N802
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")

    # Plumbing ---------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        pairs = parse_qsl(split.query, keep_blank_values=True)
        if method == "POST":
            pairs += parse_qsl(raw, keep_blank_values=True)
        params = parse_form(pairs)
        if path.startswith("/checkout/") or path.startswith("/billing_portal/"):
            self._page(method, path, params)
            return
        auth = self.headers.get("Authorization", "")
        api_key = auth.removeprefix("Bearer ").strip() or None
        record = RecordedRequest(
            method=method,
            path=path,
            params=params,
            idempotency_key=self.headers.get("Idempotency-Key"),
            api_key=api_key,
            stripe_version=self.headers.get("Stripe-Version"),
            received_at=time.time(),
        )
        owner = self.owner
        flight = (api_key, record.idempotency_key) if method == "POST" else None
        with owner.lock:
            owner.requests.append(record)
            if flight and record.idempotency_key and flight in owner.in_flight:
                # Stripe's answer to a retry that overtakes the request it repeats.
                record.status = 409
                self._json(
                    409,
                    {
                        "error": {
                            "type": "idempotency_error",
                            "message": "There is currently another in-progress "
                            "request using this Idempotent Key (that probably "
                            "means you submitted twice, and the other request is "
                            "still going through): "
                            f"{record.idempotency_key}. Please try again later.",
                        }
                    },
                )
                return
            if flight and record.idempotency_key:
                owner.in_flight.add(flight)
            fault = next((f for f in owner.faults if f.matches(method, path)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    owner.faults.remove(fault)
        try:
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                record.status = fault.status
                self._json(
                    fault.status,
                    {"error": {"type": "api_error", "message": "Stand-in fault."}},
                )
                return
            status, body, replayed = self._api(method, path, params, api_key, record)
        finally:
            with owner.lock:
                owner.in_flight.discard(flight)
        record.status, record.replayed = status, replayed
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        if record.idempotency_key:
            headers["Idempotency-Key"] = record.idempotency_key
        self._json(status, body, headers)

    def _api(self, method, path, params, api_key, record):
        owner = self.owner
        with owner.lock:
            account = owner.accounts.get(api_key or "")
            if account is None:
                shown = (api_key or "")[:8] + "*" * 8
                return (
                    401,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "message": f"Invalid API Key provided: {shown}",
                        }
                    },
                    False,
                )
            route = _route(method, path)
            if route is None:
                return (
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "message": f"Unrecognized request URL ({method}: {path}).",
                        }
                    },
                    False,
                )
            name, match = route
            key = record.idempotency_key if method == "POST" else None
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            if key and key in account.idempotency:
                seen, _, status, body = account.idempotency[key]
                if seen != fingerprint:
                    return (
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be "
                                "used with the same parameters they were first used "
                                f"with. Try using a key other than '{key}' if you "
                                "meant to execute a different request.",
                            }
                        },
                        False,
                    )
                return status, body, True
            try:
                body = getattr(self, f"_api_{name}")(
                    account, params, **match.groupdict()
                )
                status = 200
            except StripeError as exc:
                return exc.status, exc.body, False
            if key:
                account.idempotency[key] = (fingerprint, path, status, body)
            return status, body, False

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", _new_id("req"))
        self.send_header("Stripe-Version", API_VERSION)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _html(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # The API ----------------------------------------------------------------

    def _get(self, account, kind, id, params):  # noqa: A002
        obj = account.get(id, KINDS[kind])
        return self.owner._expand(account, obj, params.get("expand") or [])

    def _api_account(self, account, params):
        return {
            "id": account.id,
            "object": "account",
            "business_profile": {"name": account.name},
            "charges_enabled": True,
            "country": "US",
            "default_currency": "usd",
            "email": None,
            "payouts_enabled": True,
            "settings": {"dashboard": {"display_name": account.name}},
            "livemode": False,
        }

    def _api_balance(self, account, params):
        return {
            "object": "balance",
            "available": [{"amount": 0, "currency": "usd"}],
            "pending": [{"amount": 0, "currency": "usd"}],
            "livemode": False,
        }

    def _api_customer_create(self, account, params):
        return render(self.owner._customer(account, params))

    def _api_customer_get(self, account, params, id):  # noqa: A002
        return self._get(account, "customer", id, params)

    def _api_customer_update(self, account, params, id):  # noqa: A002
        customer = account.get(id, "customer")
        for name in ("email", "name", "description"):
            if name in params:
                customer[name] = params[name] or None
        if "metadata" in params:
            customer["metadata"] = {
                **customer["metadata"],
                **(params["metadata"] or {}),
            }
            customer["metadata"] = {k: v for k, v in customer["metadata"].items() if v}
        return render(customer)

    def _api_customer_list(self, account, params):
        return self.owner._list(account, "customer", params, "/v1/customers")

    def _api_product_create(self, account, params):
        return render(self.owner._product(account, params))

    def _api_product_get(self, account, params, id):  # noqa: A002
        return self._get(account, "product", id, params)

    def _api_product_list(self, account, params):
        return self.owner._list(account, "product", params, "/v1/products")

    def _api_price_create(self, account, params):
        return render(self.owner._price(account, params))

    def _api_price_get(self, account, params, id):  # noqa: A002
        return self._get(account, "price", id, params)

    def _api_price_list(self, account, params):
        params = dict(params)
        lookup_keys = params.pop("lookup_keys", None)
        result = self.owner._list(account, "price", params, "/v1/prices")
        if lookup_keys:
            result["data"] = [
                p for p in result["data"] if p["lookup_key"] in lookup_keys
            ]
        return result

    def _api_checkout_create(self, account, params):
        session = self.owner._checkout_create(account, params)
        return self.owner._expand(account, session, params.get("expand") or [])

    def _api_checkout_get(self, account, params, id):  # noqa: A002
        return self._get(account, "checkout", id, params)

    def _api_checkout_list(self, account, params):
        return self.owner._list(
            account, "checkout.session", params, "/v1/checkout/sessions"
        )

    def _api_checkout_expire(self, account, params, id):  # noqa: A002
        session = account.get(id, "checkout.session")
        self.owner._expire(account, session)
        return render(session)

    def _api_checkout_line_items(self, account, params, id):  # noqa: A002
        session = account.get(id, "checkout.session")
        return _list(
            render(session["_line_items"]), f"/v1/checkout/sessions/{id}/line_items"
        )

    def _api_payment_intent_get(self, account, params, id):  # noqa: A002
        return self._get(account, "payment_intent", id, params)

    def _api_charge_get(self, account, params, id):  # noqa: A002
        return self._get(account, "charge", id, params)

    def _api_refund_create(self, account, params):
        refund = self.owner._refund(account, params)
        refund.pop("_events")
        return render(refund)

    def _api_refund_get(self, account, params, id):  # noqa: A002
        return self._get(account, "refund", id, params)

    def _api_refund_list(self, account, params):
        return self.owner._list(account, "refund", params, "/v1/refunds")

    def _api_subscription_create(self, account, params):
        sub = self.owner._subscription(account, params)
        sub.pop("_events")
        return self.owner._expand(account, sub, params.get("expand") or [])

    def _api_subscription_get(self, account, params, id):  # noqa: A002
        return self._get(account, "subscription", id, params)

    def _api_subscription_list(self, account, params):
        return self.owner._list(account, "subscription", params, "/v1/subscriptions")

    def _api_subscription_update(self, account, params, id):  # noqa: A002
        owner = self.owner
        sub = account.get(id, "subscription")
        previous: dict[str, Any] = {}
        if "cancel_at_period_end" in params:
            previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
            sub["cancel_at_period_end"] = _bool(params["cancel_at_period_end"])
        if "metadata" in params:
            previous["metadata"] = dict(sub["metadata"])
            sub["metadata"] = {**sub["metadata"], **_metadata(params["metadata"])}
        if params.get("items"):
            previous["items"] = render(copy.deepcopy(sub["items"]))
            for item in params["items"]:
                existing = next(
                    (i for i in sub["items"]["data"] if i["id"] == item.get("id")), None
                )
                if existing is None:
                    if item.get("id"):
                        raise _missing("subscription_item", item["id"])
                    existing = {
                        "id": _new_id("si"),
                        "object": "subscription_item",
                        "quantity": 1,
                        "current_period_start": int(time.time()),
                        "current_period_end": int(time.time()) + sub["_period_seconds"],
                    }
                    sub["items"]["data"].append(existing)
                if _bool(item.get("deleted")):
                    sub["items"]["data"].remove(existing)
                    continue
                if item.get("price"):
                    existing["price"] = copy.deepcopy(
                        account.get(item["price"], "price")
                    )
                if item.get("quantity"):
                    existing["quantity"] = _int(item, "quantity")
        if params.get("trial_end") == "now" and sub["status"] == "trialing":
            previous["status"] = sub["status"]
            sub["status"] = "active"
            sub["trial_end"] = int(time.time())
        if previous:
            owner.event(
                account,
                "customer.subscription.updated",
                sub,
                previous_attributes=previous,
            )
        return owner._expand(account, sub, params.get("expand") or [])

    def _api_subscription_cancel(self, account, params, id):  # noqa: A002
        sub = account.get(id, "subscription")
        if sub["status"] == "canceled":
            raise StripeError(
                400,
                f"A canceled subscription can only update its cancellation_details "
                f"({id}).",
                code="resource_missing",
            )
        self.owner._subscription_status(account, sub, "canceled")
        return render(sub)

    def _api_invoice_get(self, account, params, id):  # noqa: A002
        return self._get(account, "invoice", id, params)

    def _api_invoice_list(self, account, params):
        return self.owner._list(account, "invoice", params, "/v1/invoices")

    def _api_portal_create(self, account, params):
        customer = params.get("customer")
        if not customer:
            raise _required("customer")
        account.get(customer, "customer")
        portal_id = _new_id("bps")
        return render(
            self.owner._store(
                account,
                {
                    "id": portal_id,
                    "object": "billing_portal.session",
                    "created": int(time.time()),
                    "customer": customer,
                    "livemode": False,
                    "return_url": params.get("return_url") or None,
                    "url": f"{self.owner.url}/billing_portal/{portal_id}",
                },
            )
        )

    def _api_event_get(self, account, params, id):  # noqa: A002
        return self._get(account, "event", id, params)

    # The hosted pages -------------------------------------------------------

    def _page(self, method: str, path: str, params: dict) -> None:
        owner = self.owner
        parts = path.strip("/").split("/")
        kind, object_id = parts[0], parts[1] if len(parts) > 1 else ""
        action = parts[2] if len(parts) > 2 else ""
        with owner.lock:
            try:
                account = owner._owner_of(object_id)
            except KeyError:
                self._html(404, _page_html("Not found", "<p>No such page.</p>"))
                return
            obj = account.objects[object_id]
        if kind == "checkout":
            self._checkout_page(method, account, obj, action, params)
        else:
            self._portal_page(method, account, obj, action)

    def _checkout_page(self, method, account, session, action, params) -> None:
        owner = self.owner
        if method == "POST" and action == "pay":
            try:
                events = owner.complete_checkout(
                    session["id"], params.get("method", "card"), account=account
                )
            except StripeError as exc:
                self._html(
                    400,
                    _page_html("Payment refused", f"<p>{html.escape(str(exc))}</p>"),
                )
                return
            owner._deliver_quietly(account, events)
            self._redirect(
                session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
            )
            return
        if session["status"] != "open":
            self._html(
                410,
                _page_html(
                    "This payment page has expired",
                    f"<p>This checkout is {html.escape(session['status'])}.</p>",
                ),
            )
            return
        amount = f"{session['amount_total'] / 100:,.2f} {session['currency'].upper()}"
        lines = "".join(
            f"<li>{html.escape(str(li['description'] or 'Item'))}: "
            f"{li['amount_total'] / 100:,.2f}</li>"
            for li in session["_line_items"]
        )
        labels = {"card": "Pay by card", "us_bank_account": "Pay by bank account"}
        buttons = "".join(
            f'<form method="post" action="/checkout/{session["id"]}/pay">'
            f'<input type="hidden" name="method" value="{m}">'
            f'<button type="submit">{labels[m]}</button></form>'
            for m in session["payment_method_types"]
        )
        cancel = (
            f'<p><a href="{html.escape(session["cancel_url"])}">Back</a></p>'
            if session["cancel_url"]
            else ""
        )
        body = (
            f"<p>{html.escape(account.name)}</p>"
            f'<p class="amount" data-testid="amount">{amount}</p>'
            f"<ul>{lines}</ul>{buttons}{cancel}"
        )
        self._html(200, _page_html("Pay " + amount, body))

    def _portal_page(self, method, account, portal, action) -> None:
        owner = self.owner
        if method == "POST" and action == "cancel":
            events = []
            with owner.lock:
                for sub in account.of_kind("subscription"):
                    if sub["customer"] == portal["customer"] and sub["status"] != (
                        "canceled"
                    ):
                        events += owner._subscription_status(account, sub, "canceled")
            owner._deliver_quietly(account, events)
            self._redirect(portal["return_url"] or "/")
            return
        back = (
            f'<p><a href="{html.escape(portal["return_url"])}">Return</a></p>'
            if portal["return_url"]
            else ""
        )
        body = (
            f'<form method="post" action="/billing_portal/{portal["id"]}/cancel">'
            '<button type="submit">Cancel plan</button></form>' + back
        )
        self._html(200, _page_html("Billing", body))


def _page_html(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
