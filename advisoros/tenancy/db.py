"""The database wall: the PostgreSQL settings that row-level security policies read.

Every tenant table has a policy (see `advisoros.tenancy.rls`) comparing its
`organization_id` with `app.organization_id`. This module is the only place that
sets those variables:

- `tenant_context(org)`: the request (through the middleware), every background
  task and every management command run inside it. It enters django-scopes'
  scope too, so both walls move together.
- `replica_sync(alias)` / `replica_clear(alias)`: the same settings on a read
  replica's connection, applied when a replica read first needs them
  (`advisoros.tenancy.replica`).
- `platform_bypass()`: the one explicit, greppable way past both walls, for
  platform-wide code (Django admin for superusers, cross-firm jobs, the audit
  writer). `grep -rn platform_bypass` lists every use.

Settings are session-level and always restored in `finally`, so a pooled or
persistent connection never carries one firm's setting into the next request.
With nothing set a tenant query sees no rows: the policies fail closed.

Each set of values travels with `app.tenant_proof`, an HMAC of the values and
the connection's backend pid under a key the database cannot reveal to this
role (`advisoros.tenancy.rls`): SQL injected into this connection may set any
firm, user or bypass, but the policies honour only what carries its proof.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from django.db import DatabaseError, connection, connections
from django_scopes import scope, scopes_disabled

from advisoros.tenancy.rls import tenant_proof

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from advisoros.tenancy.models import Organization


@dataclass(frozen=True)
class DbContext:
    organization_id: int | None = None
    user_id: int | None = None
    bypass: bool = False


_EMPTY = DbContext()
_current: ContextVar[DbContext] = ContextVar("advisoros_db_context", default=_EMPTY)

_SET_SQL = (
    "SELECT set_config('app.organization_id', %s, false),"
    " set_config('app.user_id', %s, false),"
    " set_config('app.rls_bypass', %s, false),"
    " set_config('app.tenant_proof', %s, false)"
)


def _backend_pid(conn: BaseDatabaseWrapper = connection) -> int:
    """The server process of this connection: the proof is good for it alone."""
    conn.ensure_connection()
    return conn.connection.info.backend_pid


def _settings(ctx: DbContext, conn: BaseDatabaseWrapper = connection) -> list[str]:
    values = [
        "" if ctx.organization_id is None else str(ctx.organization_id),
        "" if ctx.user_id is None else str(ctx.user_id),
        "on" if ctx.bypass else "",
    ]
    return [*values, tenant_proof(*values, _backend_pid(conn))]


def _apply(ctx: DbContext) -> None:
    values = _settings(ctx)
    with connection.cursor() as cursor:
        cursor.execute(_SET_SQL, values)


@contextmanager
def _db_context(ctx: DbContext) -> Iterator[None]:
    previous = _current.get()
    token = _current.set(ctx)
    _apply(ctx)
    try:
        yield
    finally:
        _current.reset(token)
        _apply(previous)


@contextmanager
def request_start() -> Iterator[None]:
    """A request begins with no context at all, whatever its thread ran before:
    the contexts it enters restore the empty one on their way out, never a
    context some earlier code left behind."""
    token = _current.set(_EMPTY)
    try:
        yield
    finally:
        _current.reset(token)


def current_organization_id() -> int | None:
    """The firm whose context is active, if any (used by the audit log)."""
    return _current.get().organization_id


def current_user_id() -> int | None:
    """The person whose context is active, if any (used by the logs)."""
    return _current.get().user_id


@contextmanager
def tenant_context(
    organization: Organization, *, user_id: int | None = None
) -> Iterator[None]:
    """Run the block as `organization`: both walls (scopes and RLS) set to it."""
    ctx = replace(
        _current.get(),
        organization_id=organization.pk,
        user_id=user_id if user_id is not None else _current.get().user_id,
        bypass=False,
    )
    with _db_context(ctx), scope(organization=organization):
        yield


# Firm ids by slug, learnt once per process: the proof covers the id, which
# must be known before the statement that fetches the firm and sets it. A slug
# that changed hands is caught by the same statement (it checks both).
_firm_ids: dict[str, int] = {}


def remember_firm(sender, instance, **kwargs) -> None:
    """post_save of Organization: a firm made or renamed here is known at once."""
    _firm_ids[instance.slug] = instance.pk


@contextmanager
def firm_context(slug: str, *, user_id: int | None) -> Iterator[Organization | None]:
    """Find the firm named `slug` and enter it as `tenant_context` does, in one
    round trip: the row and its settings come back from the same statement.

    Yields None, with nothing set, when no firm has that slug. Every request to
    a firm page starts here (the tenancy middleware), and every portal page
    (the portal middleware, with no user), so the saved query counts.
    """
    from advisoros.tenancy.models import Organization

    previous = _current.get()
    table = connection.ops.quote_name(Organization._meta.db_table)
    organization = None
    org_id = _firm_ids.get(slug)
    if org_id is not None:
        ctx = replace(previous, organization_id=org_id, user_id=user_id, bypass=False)
        found = list(
            Organization.objects.raw(
                "SELECT o.*,"  # noqa: S608 (the table name is the model's)
                " set_config('app.organization_id', %s, false) AS _rls_org,"
                " set_config('app.user_id', %s, false) AS _rls_user,"
                " set_config('app.rls_bypass', %s, false) AS _rls_bypass,"
                " set_config('app.tenant_proof', %s, false) AS _rls_proof"
                f" FROM {table} o WHERE o.id = %s AND o.slug = %s",
                [*_settings(ctx), org_id, slug],
            )
        )
        organization = found[0] if found else None
        if organization is None:
            _firm_ids.pop(slug, None)
    if organization is None:
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            yield None
            return
        _firm_ids[slug] = organization.pk
        ctx = replace(
            previous, organization_id=organization.pk, user_id=user_id, bypass=False
        )
        _apply(ctx)
    token = _current.set(ctx)
    try:
        with scope(organization=organization):
            yield organization
    finally:
        _current.reset(token)
        _apply(previous)


@contextmanager
def user_context(user_id: int | None) -> Iterator[None]:
    """Let the database show this user's own memberships in every firm (firm switcher)."""
    with _db_context(replace(_current.get(), user_id=user_id)):
        yield


def bind_user(user_id: int | None) -> None:
    """Set the user for the rest of the enclosing context (after a login mid-request)."""
    ctx = replace(_current.get(), user_id=user_id)
    _current.set(ctx)
    _apply(ctx)


@contextmanager
def platform_bypass() -> Iterator[None]:
    """PLATFORM BYPASS: see every firm's rows. Platform-wide code paths only."""
    with _db_context(replace(_current.get(), bypass=True)), scopes_disabled():
        yield


# What each replica connection (per thread) was last given: (its backend pid,
# the context). A reconnect (new pid) or another context means applying again.
_replica_applied: WeakKeyDictionary[BaseDatabaseWrapper, tuple[int, DbContext]] = (
    WeakKeyDictionary()
)


def replica_sync(alias: str) -> None:
    """Give connection `alias` the current context's settings, if it lacks them.

    Called before each query routed to a read replica: the first one of a
    request pays one round trip (the replica's own proof, since the proof is
    bound to the server process), the others a comparison. Row-level security
    is the same on a physical replica (policies, functions and the proof key
    are replicated), so it binds there as on the primary.
    """
    conn = connections[alias]
    ctx = _current.get()
    pid = _backend_pid(conn)
    if _replica_applied.get(conn) == (pid, ctx):
        return
    values = _settings(ctx, conn)
    with conn.cursor() as cursor:
        cursor.execute(_SET_SQL, values)
    _replica_applied[conn] = (pid, ctx)


def replica_clear(alias: str) -> None:
    """Empty the settings of connection `alias` after its reads (end of a view),
    so a persistent connection never carries a firm into the next request. A
    connection that fails here is closed instead: a new session starts empty."""
    conn = connections[alias]
    applied = _replica_applied.pop(conn, None)
    if applied is None or applied[1] == _EMPTY or conn.connection is None:
        return
    try:
        if conn.connection.info.backend_pid != applied[0]:
            return  # reconnected since: the new session never had them
        with conn.cursor() as cursor:
            cursor.execute(_SET_SQL, _settings(_EMPTY, conn))
    except DatabaseError:
        conn.close()
