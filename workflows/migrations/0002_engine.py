# The engine's additions to 0001 (written by hand in this reserved file, never by
# makemigrations' numbering): the workflow list's sort key and its indexes.
from __future__ import annotations

import datetime

import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workflows", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="workflowexecution",
            name="due_sort",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Coalesce(
                    "due_date", models.Value(datetime.date(9999, 12, 31))
                ),
                output_field=models.DateField(),
            ),
        ),
        migrations.AddIndex(
            model_name="workflowexecution",
            index=models.Index(
                condition=models.Q(("status__in", ["active", "paused"])),
                fields=["organization", "due_sort", "id"],
                name="execution_org_open_due",
            ),
        ),
        migrations.AddIndex(
            model_name="workflowexecution",
            index=models.Index(
                fields=["organization", "status", "due_sort", "id"],
                name="execution_org_status_sort",
            ),
        ),
    ]
