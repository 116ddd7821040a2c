"""Report and dashboard reads on a PostgreSQL read replica (docs/scaling.md).

With `DATABASE_REPLICA_URL` set, settings add a `replica` database alias, this
router and the pin middleware; unset (`make run`, `make test`), none of them is
there and everything reads and writes on the one database.

What reads where:

- A view opts in with `@reads_from_replica` (the money reports, the financial
  statements, the firm dashboard): read-only pages whose figures may be a
  moment old. Everything else, and everything before the view runs (the
  session, the sign-in, the membership and role checks of the middleware),
  reads on the primary: a query that must be fresh never goes to the replica.
- Writes always go to the primary. Once a replica-reading request writes
  anything, its later reads go to the primary too, as do reads inside a
  transaction on the primary.
- Read-your-writes across requests: a POST (any unsafe method) pins the
  browser to the primary for `DATABASE_REPLICA_PIN_SECONDS` with a cookie, so
  the page a form redirects to shows what was just saved, however far the
  replica lags. Other people see it once the replica replays it.

Tenancy: the replica's connection gets the same row-level security settings as
the primary's (`advisoros.tenancy.db.replica_sync`), on its first query inside
the view and again whenever the context changes; they are emptied when the
view returns. Outside any firm's context the replica shows no tenant rows,
exactly like the primary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

from advisoros.tenancy.db import replica_clear, replica_sync

REPLICA = "replica"
PIN_COOKIE = "advisoros_primary"
READ_METHODS = ("GET", "HEAD")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


@dataclass
class _Reads:
    """One view's replica reads; `wrote` sends the rest of them to the primary."""

    wrote: bool = False


_reads: ContextVar[_Reads | None] = ContextVar("advisoros_replica_reads", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads() -> Iterator[None]:
    """Route this block's reads to the replica (the router below)."""
    token = _reads.set(_Reads())
    try:
        yield
    finally:
        _reads.reset(token)
        replica_clear(REPLICA)


def pinned_to_primary(request: HttpRequest) -> bool:
    """This browser wrote less than DATABASE_REPLICA_PIN_SECONDS ago."""
    try:
        until = int(request.COOKIES.get(PIN_COOKIE, "0"))
    except ValueError:
        return False
    return until > time.time()


def reads_from_replica(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Let this read-only view's queries go to the replica, when there is one,
    for a GET from a browser that has not written in the last few seconds."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if (
            not replica_configured()
            or request.method not in READ_METHODS
            or pinned_to_primary(request)
        ):
            return view(request, *args, **kwargs)
        with replica_reads():
            return view(request, *args, **kwargs)

    wrapper.reads_from_replica = True
    return wrapper


class ReplicaRouter:
    """Reads inside `replica_reads()` go to the replica; everything else to the
    primary. Always an explicit answer: left to Django, a row read from the
    replica would send its related lookups and its saves back there."""

    def db_for_read(self, model, **hints) -> str:
        reads = _reads.get()
        if (
            reads is None
            or reads.wrote
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        replica_sync(REPLICA)
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        reads = _reads.get()
        if reads is not None:
            reads.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return False if db == REPLICA else None


class ReplicaPinMiddleware:
    """After a POST (any unsafe method), read on the primary for a while."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            seconds = settings.DATABASE_REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
