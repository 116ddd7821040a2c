# Reserved for the pages work (filled by hand, never by makemigrations' numbering).
from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("workflows", "0002_engine")]

    operations: list = []
