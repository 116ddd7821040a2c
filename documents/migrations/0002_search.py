# Reserved for the search work (filled by hand, never by makemigrations' numbering).
from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations: list = []
