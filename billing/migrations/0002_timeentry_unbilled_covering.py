# The unbilled-time index carries the columns work in progress adds up
# (billing.reports.selectors), so the report is an index-only scan.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="timeentry",
            name="timeentry_unbilled",
        ),
        migrations.AddIndex(
            model_name="timeentry",
            index=models.Index(
                condition=models.Q(("billable", True), ("invoice_line__isnull", True)),
                fields=["organization", "client", "date"],
                include=("engagement", "minutes", "rate"),
                name="timeentry_unbilled",
            ),
        ),
    ]
