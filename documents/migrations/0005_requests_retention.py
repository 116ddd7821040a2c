"""Django learns of the search words table that 0002_search created in SQL, so a
test database flush truncates it together with the firms it refers to."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_ocr")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SearchWord",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "organization_id",
                                "word",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("word", models.TextField()),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="tenancy.organization",
                            ),
                        ),
                    ],
                    options={"db_table": "documents_searchword"},
                ),
            ]
        ),
    ]
