from django.db import migrations, models


class Migration(migrations.Migration):
    # The contract step: no running release reads Entry.note any more.
    contract = "Release 2027.03 stopped reading Entry.note (expand: 0003)."

    dependencies = [("ledger", "0003_expand")]

    operations = [
        migrations.RemoveField(model_name="entry", name="note"),
        # A contract step still may not lock a large table for an index build.
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["posted"], name="entry_posted"),
        ),
    ]
