"""An import's uploaded CSV holds whole tax ids: store it encrypted, like Client.tax_id."""

from __future__ import annotations

from django.db import migrations

import advisoros.crypto


def encrypt_existing(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        # PLATFORM BYPASS for this migration: it rewrites every firm's imports.
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
        cursor.execute(
            "SELECT id, content FROM clients_clientimport WHERE content <> ''"
        )
        for pk, content in cursor.fetchall():
            cursor.execute(
                "UPDATE clients_clientimport SET content = %s WHERE id = %s",
                [advisoros.crypto.encrypt(content), pk],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_engagement_due_key_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="clientimport",
            name="content",
            field=advisoros.crypto.EncryptedTextField(),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
