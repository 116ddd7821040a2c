from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """Every step old code survives: the expand half of the pattern."""

    atomic = False
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="note",
            field=models.TextField(null=True),
        ),
        migrations.AddField(
            model_name="entry",
            name="posted",
            field=models.BooleanField(db_default=False),
        ),
        migrations.AlterField(
            model_name="entry",
            name="memo",
            field=models.CharField(max_length=100, db_default=""),
        ),
        AddIndexConcurrently(
            model_name="entry",
            index=models.Index(fields=["amount", "id"], name="entry_amount_id"),
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY entry_note ON ledger_entry (note)",
            reverse_sql="DROP INDEX CONCURRENTLY entry_note",
        ),
    ]
