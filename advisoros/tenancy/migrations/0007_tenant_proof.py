"""Policies that honour only a proven firm, and the owner role's own policy.

Rewrites every existing `tenant_isolation` policy in the form
`advisoros.tenancy.rls.policy_sql` now gives (the firm, user and bypass come
from the proof-checking functions, not from the bare settings) and adds
`platform_owner` for the migrating role. Each policy keeps its own extra
condition: a user's own memberships in every firm, audit rows written before
anyone is known. Tables made later get the same from EnableRowLevelSecurity.
"""

from __future__ import annotations

from django.db import migrations

from advisoros.tenancy.rls import USER_MATCH, ensure_tenant_functions, policy_sql


def prove(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        ensure_tenant_functions(cursor)
        cursor.execute(
            "SELECT tablename, qual, with_check FROM pg_policies "
            "WHERE schemaname = current_schema() AND policyname = 'tenant_isolation'"
        )
        for table, using, check in cursor.fetchall():
            extra_using = USER_MATCH if "user_id" in using else ""
            extra_check = (
                "organization_id IS NULL" if "organization_id IS NULL" in check else ""
            )
            forwards, _ = policy_sql(
                table, extra_using=extra_using, extra_check=extra_check
            )
            cursor.execute(forwards)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0006_portal_branding")]

    operations = [
        migrations.RunPython(prove, migrations.RunPython.noop),
    ]
