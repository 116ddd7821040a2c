# Reserved for the upload work (filled by hand, never by makemigrations' numbering).
from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_search")]

    operations: list = []
