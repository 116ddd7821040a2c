"""The audit tables are append-only in the database, not only in the code.

A row may never be deleted, and an update may only clear a deleted person's
foreign key (ON DELETE SET NULL keeps the email that was recorded with it).
"""

from __future__ import annotations

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit rows are append-only: % cannot be deleted', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - 'actor_id' - 'target_user_id')
       IS DISTINCT FROM (to_jsonb(OLD) - 'actor_id' - 'target_user_id')
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
    THEN
        RAISE EXCEPTION 'audit rows are append-only: % cannot be changed', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
CREATE TRIGGER {table}_append_only
BEFORE UPDATE OR DELETE ON {table}
FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""

TABLES = ["audit_auditevent", "audit_logentry"]


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunSQL(
            FUNCTION, "DROP FUNCTION IF EXISTS audit_append_only() CASCADE;"
        ),
        *[
            migrations.RunSQL(
                TRIGGER.format(table=table),
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            )
            for table in TABLES
        ],
    ]
