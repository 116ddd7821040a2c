from django.db import migrations, models


class Migration(migrations.Migration):
    """Steps that break old code or lock a large table without saying so in
    the operation's name."""

    dependencies = [("ledger", "0001_initial")]

    operations = [
        # A column dropped in the database, kept in Django's state.
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RemoveField("entry", "memo")],
        ),
        # A foreign key's index, built without CONCURRENTLY.
        migrations.AddField(
            model_name="entry",
            name="period",
            field=models.ForeignKey(
                null=True, on_delete=models.PROTECT, to="ledger.period"
            ),
        ),
        # An index asked for on the field itself.
        migrations.AlterField(
            model_name="entry",
            name="amount",
            field=models.DecimalField(max_digits=12, decimal_places=2, db_index=True),
        ),
        migrations.AlterUniqueTogether(
            name="entry", unique_together={("amount", "id")}
        ),
        # Raw SQL that drops and renames.
        migrations.RunSQL("ALTER TABLE ledger_entry DROP COLUMN memo"),
        migrations.RunSQL("ALTER TABLE ledger_entry RENAME COLUMN amount TO total"),
    ]
