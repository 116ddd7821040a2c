from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="entry",
            name="memo",
            field=models.CharField(max_length=100, default=""),
        ),
        migrations.AddField(
            model_name="entry",
            name="currency",
            field=models.CharField(max_length=3, default="USD"),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["memo"], name="entry_memo"),
        ),
        migrations.RunSQL(
            "CREATE INDEX entry_lower_memo ON ledger_entry (lower(memo))",
            reverse_sql="DROP INDEX entry_lower_memo",
        ),
        migrations.RenameField(model_name="entry", old_name="amount", new_name="total"),
        migrations.RemoveField(model_name="entry", name="memo"),
        migrations.RenameModel(old_name="Period", new_name="FiscalPeriod"),
        migrations.DeleteModel(name="FiscalPeriod"),
    ]
