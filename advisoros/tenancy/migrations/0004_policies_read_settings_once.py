"""Rewrite the existing tenant policies to read their settings once per query.

Tables created after this migration get the new form from
`EnableRowLevelSecurity` directly; this rewrites those that exist already, in
place, keeping each policy's own conditions.
"""

from __future__ import annotations

import re

from django.db import migrations

SETTING = re.compile(r"(?<!SELECT )(current_setting\('app\.\w+'::text, true\))")


def read_once(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, qual, with_check FROM pg_policies "
            "WHERE schemaname = current_schema() AND policyname = 'tenant_isolation'"
        )
        for table, using, check in cursor.fetchall():
            new_using = SETTING.sub(r"(SELECT \1)", using)
            new_check = SETTING.sub(r"(SELECT \1)", check)
            if (new_using, new_check) != (using, check):
                cursor.execute(
                    f'ALTER POLICY tenant_isolation ON "{table}" '
                    f"USING ({new_using}) WITH CHECK ({new_check})"
                )


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_organization_assigned_clients_only")]

    operations = [migrations.RunPython(read_once, migrations.RunPython.noop)]
