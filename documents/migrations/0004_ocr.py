# Reserved for the ocr work (filled by hand, never by makemigrations' numbering).
from __future__ import annotations

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("documents", "0003_upload")]

    operations = [
        migrations.AddField(
            model_name="document",
            name="suggestion_reasons",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=200),
                blank=True,
                default=list,
                size=None,
            ),
        ),
    ]
