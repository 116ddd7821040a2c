"""Link the events written before the hash chain existed into their firms' chains.

The append-only trigger learns one more allowed change: an event outside the
chain (sequence NULL) may be linked into it, once.
"""

from __future__ import annotations

from django.db import migrations

from advisoros.audit.chain import GENESIS, event_digest

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
DECLARE
    free_keys text[] := ARRAY['actor_id', 'target_user_id'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit rows are append-only: % cannot be deleted', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Read through jsonb: audit_logentry has no sequence column.
    IF to_jsonb(OLD) ? 'sequence' AND to_jsonb(OLD) -> 'sequence' = 'null'::jsonb THEN
        free_keys := free_keys || ARRAY['sequence', 'prev_hash', 'hash'];
    END IF;
    IF (to_jsonb(NEW) - free_keys) IS DISTINCT FROM (to_jsonb(OLD) - free_keys)
       OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
    THEN
        RAISE EXCEPTION 'audit rows are append-only: % cannot be changed', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def link_existing(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    with schema_editor.connection.cursor() as cursor:
        # PLATFORM BYPASS for this migration: it walks every firm's events.
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
    firms = AuditEvent.objects.values_list("organization_id", flat=True).distinct()
    for org_id in list(firms):
        prev_hash = GENESIS
        events = AuditEvent.objects.filter(organization_id=org_id).order_by(
            "created_at", "id"
        )
        for sequence, event in enumerate(events, start=1):
            event.sequence, event.prev_hash = sequence, prev_hash
            event.hash = prev_hash = event_digest(event)
            event.save(update_fields=["sequence", "prev_hash", "hash"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_event_hash_chain")]

    operations = [
        migrations.RunSQL(FUNCTION, migrations.RunSQL.noop),
        migrations.RunPython(link_existing, migrations.RunPython.noop),
    ]
