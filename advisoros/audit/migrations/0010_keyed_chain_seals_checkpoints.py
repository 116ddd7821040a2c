"""The keyed audit trail: events chained with an HMAC (chain_version 2), the
change log sealed in batches (ChangeLogSeal), signed checkpoints indexed
(AuditCheckpoint). Both new tables are behind row-level security and refuse
every UPDATE and DELETE.

Existing chains are not rewritten (their rows are append-only): each gets one
keyed "chain keyed" event that seals its unkeyed opening run (audit.chain).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from advisoros.audit.chain import CHAIN_LOCK, GENESIS, KEYED, event_digest
from advisoros.tenancy.rls import EnableRowLevelSecurity

STRICT_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_strictly_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % cannot be %', TG_TABLE_NAME,
        CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'changed' END
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""
STRICT_TABLES = ["audit_changelogseal", "audit_auditcheckpoint"]


def seal_legacy_chains(apps, schema_editor):
    """One keyed event after each chain's unkeyed events, naming how many it seals."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    with schema_editor.connection.cursor() as cursor:
        # PLATFORM BYPASS for this migration: it walks every firm's chain.
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
    chained = AuditEvent.objects.filter(sequence__isnull=False)
    firms = chained.values_list("organization_id", flat=True).distinct()
    for org_id in list(firms):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK, org_id or 0]
            )
        chain = chained.filter(organization_id=org_id)
        if chain.filter(chain_version=KEYED).exists():
            continue
        last = chain.order_by("-sequence").first()
        event = AuditEvent(
            organization_id=org_id,
            action="audit_chain_keyed",
            detail={"legacy_events": last.sequence},
            sequence=last.sequence + 1,
            prev_hash=last.hash or GENESIS,
            chain_version=KEYED,
        )
        event.hash = event_digest(event)
        event.save()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0009_action_choices_callable"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenancy", "0008_organization_audit_checkpoint_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False
                    ),
                ),
                ("name", models.CharField(max_length=300)),
                ("events", models.PositiveBigIntegerField()),
                ("events_head_digest", models.CharField(max_length=64)),
                ("seals", models.PositiveBigIntegerField()),
                ("seals_head_digest", models.CharField(max_length=64)),
                ("sealed_entries", models.PositiveBigIntegerField()),
                ("signature", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ChangeLogSeal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("sequence", models.PositiveBigIntegerField()),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False
                    ),
                ),
                ("first_id", models.BigIntegerField()),
                ("last_id", models.BigIntegerField()),
                ("count", models.PositiveIntegerField()),
                ("prev_digest", models.CharField(max_length=64)),
                ("digest", models.CharField(max_length=64)),
            ],
            options={
                "ordering": ["organization", "sequence"],
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AddIndex(
            model_name="logentry",
            index=models.Index(fields=["organization", "id"], name="logentry_org_id"),
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.organization",
            ),
        ),
        migrations.AddField(
            model_name="changelogseal",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="auditcheckpoint",
            index=models.Index(
                fields=["organization", "created_at"], name="auditcheckpoint_org_time"
            ),
        ),
        migrations.AddConstraint(
            model_name="changelogseal",
            constraint=models.UniqueConstraint(
                fields=("organization", "sequence"),
                name="changelogseal_position",
                nulls_distinct=False,
            ),
        ),
        EnableRowLevelSecurity("ChangeLogSeal"),
        EnableRowLevelSecurity("AuditCheckpoint"),
        migrations.RunSQL(
            STRICT_FUNCTION,
            "DROP FUNCTION IF EXISTS audit_strictly_append_only() CASCADE;",
        ),
        *[
            migrations.RunSQL(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION audit_strictly_append_only();",
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            )
            for table in STRICT_TABLES
        ],
        migrations.RunPython(seal_legacy_chains, migrations.RunPython.noop),
    ]
