from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Entry",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("memo", models.CharField(max_length=100, null=True)),
                ("amount", models.DecimalField(max_digits=12, decimal_places=2)),
            ],
        ),
        migrations.CreateModel(
            name="Period",
            fields=[("id", models.BigAutoField(primary_key=True))],
        ),
        # The table is new and empty: an index built with it locks nothing.
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["amount"], name="entry_amount"),
        ),
    ]
