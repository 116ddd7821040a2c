"""The portal's shared documents of a client, newest first, from their own index
(bench/portal.py, `portal_query_plans`, checks the page reads it)."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("documents", "0005_requests_retention")]

    operations = [
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                condition=models.Q(archived_at__isnull=True, visible_to_client=True),
                fields=["client", "created_at"],
                name="document_client_shared",
            ),
        ),
    ]
