# Scanning after the upload's answer: PENDING and FAILED verdicts, and why a
# scan gave none. Depends on both 0007s (they were merged side by side): this
# is also their merge.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0008_document_scan"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="scan_error",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AlterField(
            model_name="document",
            name="scan_status",
            field=models.CharField(
                choices=[
                    ("pending", "Checking for viruses"),
                    ("clean", "Clean"),
                    ("infected", "Quarantined"),
                    ("failed", "Could not be checked"),
                    ("not_scanned", "Not scanned"),
                ],
                default="not_scanned",
                max_length=12,
            ),
        ),
    ]
