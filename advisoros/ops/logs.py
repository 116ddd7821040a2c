"""Structured logs: one JSON object a line, with the request, firm and person.

`LOG_FORMAT=json` (production) writes every record through `JsonFormatter`;
the default `text` keeps `make run`'s terminal readable. Either way each record
carries three ids, added by `LogContextFilter` on the handler:

- `request_id`: the caller's `X-Request-ID` when it looks like an id (a load
  balancer's or another service's), else one made here; `RequestIdMiddleware`
  puts it in a contextvar for the request's life and echoes it in the
  response's `X-Request-ID`, so a person reporting an error can quote it.
- `organization_id` and `user_id`: the firm and person whose database context
  is active (advisoros.tenancy.db, itself a contextvar that the tenancy and
  portal middleware, every job and every command enter), so a job's lines name
  its firm as a request's do.

What a line may hold is a whitelist: the message, the three ids, the access
line's fields and a traceback. Never a request body, a query string (searches
hold names and tax ids), cookies, or whatever object a library passed in
`extra` (django.request passes the whole request). No log statement in the
project formats a tax id or a document's text; tests/ops/test_logs.py holds
a client's save to that.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from advisoros.tenancy.db import current_organization_id, current_user_id

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from a caller: an id, not a place to smuggle text into logs.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
CONTEXT_FIELDS = ("request_id", "organization_id", "user_id")
# The access line's own fields (RequestIdMiddleware), passed through `extra`.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")
# URL arguments that are credentials (an invitation's, a sign-up's, a portal
# link's token; a password reset's user and token): shown as HIDDEN in the path.
SECRET_URL_KWARGS = ("token", "uidb64")
HIDDEN = "[hidden]"

_request_id: ContextVar[str | None] = ContextVar("advisoros_request_id", default=None)
access_logger = logging.getLogger("advisoros.request")


def current_request_id() -> str | None:
    return _request_id.get()


def request_id_from(header: str | None) -> str:
    """The caller's id when it is a plausible one, else a new one."""
    if header and VALID_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class LogContextFilter(logging.Filter):
    """Adds the request, firm and person ids to every record (None when none).

    Ids given by the caller through `extra` win: the access line is written
    after the view, when the firm's context has already been left."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        if getattr(record, "organization_id", None) is None:
            record.organization_id = current_organization_id()
        if getattr(record, "user_id", None) is None:
            record.user_id = current_user_id()
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and isinstance(record.args, tuple):
            # django.request's "Not Found: <path>" and its kin: the path as the
            # access line shows it, tokens hidden.
            record.args = tuple(
                loggable_path(request) if arg == request.path else arg
                for arg in record.args
            )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line (stdlib json), from a whitelist of fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS + ACCESS_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """`make run`'s lines: level, logger, message, and the request id if any."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{text} [request {request_id}]" if request_id else text


def _user_id(request: HttpRequest) -> int | None:
    # Only a person already loaded: reading `request.user` here would load the
    # session after the response for pages that never needed it.
    user = getattr(request, "_cached_user", None)
    return user.pk if user is not None and user.is_authenticated else None


def loggable_path(request: HttpRequest) -> str:
    """The path without its query string and with the credentials it carries
    (SECRET_URL_KWARGS of the URL it resolved to) hidden: whoever reads the
    logs must not be able to accept an invitation or reset a password."""
    match = getattr(request, "resolver_match", None)
    secrets = {
        str(value)
        for name, value in (match.kwargs.items() if match else ())
        if name in SECRET_URL_KWARGS and value
    }
    if not secrets:
        return request.path
    return "/".join(
        HIDDEN if part in secrets else part for part in request.path.split("/")
    )


class RequestIdMiddleware:
    """First in the chain: the request's id for every line it logs, echoed in
    the answer; and, with `LOG_REQUESTS`, one access line naming the firm and
    person (the path without its query string)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if settings.LOG_REQUESTS:
                self._access_line(request, response, started)
            return response
        finally:
            _request_id.reset(token)

    def _access_line(
        self, request: HttpRequest, response: HttpResponse, started: float
    ) -> None:
        organization = getattr(request, "organization", None)
        path = loggable_path(request)
        access_logger.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "organization_id": organization.pk if organization else None,
                "user_id": _user_id(request),
            },
        )
