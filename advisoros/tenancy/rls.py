"""Row-level security for tenant tables, as a migration operation later apps reuse.

In a migration, after the CreateModel of a tenant model::

    from advisoros.tenancy.rls import EnableRowLevelSecurity

    operations = [
        migrations.CreateModel(name="Client", ...),
        EnableRowLevelSecurity("Client"),
    ]

It enables and forces RLS and adds two policies:

- `tenant_isolation`: a row is visible and writable only when its
  `organization_id` is the firm the session has *proven* (below), or under the
  proven platform bypass. Nothing proven, nothing matches: it fails closed.
- `platform_owner`: the role that runs the migration (the owner role, which
  owns every table and could switch RLS off anyway) sees every row, so
  migrations and the owner's SECURITY DEFINER functions (document search) are
  not bound. The application connects as another role that owns nothing.

Proven, not merely set. The application sets `app.organization_id`,
`app.user_id` and `app.rls_bypass` as before, plus `app.tenant_proof`: an
HMAC-SHA256 of those three values and the session's backend pid, made with a
key that lives in the application's environment (derived from SECRET_KEY) and,
for checking, in `app_tenant_key`, a table only the owner may read. The policies
ask `app_tenant_org()`, `app_tenant_user()` and `app_tenant_bypass()`,
SECURITY DEFINER functions owned by the owner, which return a value only when
the proof matches. SQL injected into the application's connection can set any
firm id, but cannot make its proof; a proof seen elsewhere (another session's
query text) is bound to that session's pid. The threat model is in
docs/security.md.

`tests/tenancy/test_rls_catalogue.py` fails the suite for any table with an
`organization_id` column that lacks all this.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from django.conf import settings
from django.db import migrations

# Each function is read in a scalar subquery: PostgreSQL evaluates it once per
# query (an InitPlan) instead of once per row, and the organization comparison
# stays an index condition.
ORG_MATCH = "organization_id = (SELECT public.app_tenant_org())"
BYPASS = "(SELECT public.app_tenant_bypass())"
USER_MATCH = "user_id = (SELECT public.app_tenant_user())"

# HMAC = H((K ^ opad) || H((K ^ ipad) || message)); the two padded keys are
# stored, so PostgreSQL's built-in sha256() is all it takes (no pgcrypto).
TENANT_FUNCTIONS = """
CREATE TABLE IF NOT EXISTS public.app_tenant_key (
  id smallint PRIMARY KEY CHECK (id = 1),
  inner_pad bytea NOT NULL,
  outer_pad bytea NOT NULL
);
REVOKE ALL ON public.app_tenant_key FROM PUBLIC;

CREATE OR REPLACE FUNCTION public.app_tenant_proven() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce((
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(
             concat_ws('|', 'tenant',
               coalesce(current_setting('app.organization_id', true), ''),
               coalesce(current_setting('app.user_id', true), ''),
               coalesce(current_setting('app.rls_bypass', true), ''),
               pg_backend_pid()::text), 'UTF8'))), 'hex')
           = current_setting('app.tenant_proof', true)
    FROM public.app_tenant_key k WHERE k.id = 1), false)
$$;

CREATE OR REPLACE FUNCTION public.app_tenant_org() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN public.app_tenant_proven()
    THEN NULLIF(current_setting('app.organization_id', true), '')::bigint END
$$;

CREATE OR REPLACE FUNCTION public.app_tenant_user() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN public.app_tenant_proven()
    THEN NULLIF(current_setting('app.user_id', true), '')::bigint END
$$;

-- Fresh planner statistics for one of our tables, asked for by the app role
-- (which owns no table, so may not ANALYZE): harmless, and the bench and the
-- plan tests need it inside their transactions. No other maintenance.
CREATE OR REPLACE FUNCTION public.app_analyze(p_table regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = p_table
                 AND c.relnamespace = 'public'::regnamespace AND c.relkind = 'r') THEN
    RAISE EXCEPTION 'app_analyze: % is not one of our tables', p_table;
  END IF;
  EXECUTE format('ANALYZE %s', p_table);
END
$$;

CREATE OR REPLACE FUNCTION public.app_tenant_bypass() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(current_setting('app.rls_bypass', true), '') = 'on'
         AND public.app_tenant_proven()
$$;
"""


@cache
def tenant_key() -> bytes:
    """The proof key: from the environment, never stored where the app role reads."""
    secret = getattr(settings, "TENANT_PROOF_KEY", "") or settings.SECRET_KEY
    return hmac.new(
        secret.encode(), b"advisoros.tenancy.rls tenant proof", hashlib.sha256
    ).digest()


def tenant_proof(organization_id: str, user_id: str, bypass: str, pid: int) -> str:
    message = "|".join(("tenant", organization_id, user_id, bypass, str(pid)))
    return hmac.new(tenant_key(), message.encode(), hashlib.sha256).hexdigest()


def _pads() -> tuple[bytes, bytes]:
    key = tenant_key().ljust(64, b"\0")  # SHA-256's block is 64 bytes
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def ensure_tenant_functions(cursor) -> None:
    """Create (or refresh) the proof functions and store the current key's pads.

    Idempotent; run by every EnableRowLevelSecurity and after every migrate, so
    a rotated SECRET_KEY reaches the database with the next deploy's migrate.
    """
    cursor.execute(TENANT_FUNCTIONS)
    inner, outer = _pads()
    cursor.execute(
        "INSERT INTO public.app_tenant_key (id, inner_pad, outer_pad)"
        " VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE"
        " SET inner_pad = EXCLUDED.inner_pad, outer_pad = EXCLUDED.outer_pad"
        " WHERE (app_tenant_key.inner_pad, app_tenant_key.outer_pad)"
        " IS DISTINCT FROM (EXCLUDED.inner_pad, EXCLUDED.outer_pad)",
        [inner, outer],
    )


def policy_sql(
    table: str, *, extra_using: str = "", extra_check: str = ""
) -> tuple[str, str]:
    using = f"({ORG_MATCH}) OR ({BYPASS})" + (
        f" OR ({extra_using})" if extra_using else ""
    )
    check = f"({ORG_MATCH}) OR ({BYPASS})" + (
        f" OR ({extra_check})" if extra_check else ""
    )
    forwards = (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;'
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY;'
        f'DROP POLICY IF EXISTS tenant_isolation ON "{table}";'
        f'CREATE POLICY tenant_isolation ON "{table}" USING ({using}) WITH CHECK ({check});'
        f'DROP POLICY IF EXISTS platform_owner ON "{table}";'
        f'CREATE POLICY platform_owner ON "{table}" TO CURRENT_USER'
        " USING (true) WITH CHECK (true);"
    )
    backwards = (
        f'DROP POLICY IF EXISTS platform_owner ON "{table}";'
        f'DROP POLICY IF EXISTS tenant_isolation ON "{table}";'
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY;'
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY;'
    )
    return forwards, backwards


class EnableRowLevelSecurity(migrations.operations.base.Operation):
    """Enable + force RLS on a model's table with the tenant isolation policy.

    `extra_using` / `extra_check` widen the policy with one more SQL condition,
    for the rare table that needs it (a user's own memberships in every firm;
    audit rows written before anyone is known).
    """

    reduces_to_sql = True
    reversible = True

    def __init__(
        self, model_name: str, *, extra_using: str = "", extra_check: str = ""
    ):
        self.model_name = model_name
        self.extra_using = extra_using
        self.extra_check = extra_check

    def deconstruct(self):
        kwargs = {}
        if self.extra_using:
            kwargs["extra_using"] = self.extra_using
        if self.extra_check:
            kwargs["extra_check"] = self.extra_check
        return (self.__class__.__name__, [self.model_name], kwargs)

    def state_forwards(self, app_label, state):
        pass

    def _sql(self, app_label, state):
        model = state.apps.get_model(app_label, self.model_name)
        return policy_sql(
            model._meta.db_table,
            extra_using=self.extra_using,
            extra_check=self.extra_check,
        )

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        with schema_editor.connection.cursor() as cursor:
            ensure_tenant_functions(cursor)
        schema_editor.execute(self._sql(app_label, to_state)[0])

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(self._sql(app_label, from_state)[1])

    def describe(self):
        return f"Enable row-level security on {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"rls_{self.model_name.lower()}"
