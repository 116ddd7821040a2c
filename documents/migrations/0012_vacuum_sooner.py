"""The documents table vacuumed after 2% of its rows changed or were added,
not PostgreSQL's 20%: the review queue's counts are an index-only scan, which
reads the heap for every row on a page not yet marked all-visible (10 ms at
the 100,000-client bench firm before a vacuum, 1 ms after). The default
waits for 200,000 new documents in a firm of a million. docs/decisions.md."""

from django.db import migrations

SETTINGS = (
    "autovacuum_vacuum_scale_factor = 0.02,"
    " autovacuum_vacuum_insert_scale_factor = 0.02,"
    " autovacuum_analyze_scale_factor = 0.02"
)
RESET = (
    "autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor,"
    " autovacuum_analyze_scale_factor"
)


class Migration(migrations.Migration):
    dependencies = [("documents", "0011_outstanding_days")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE documents_document SET ({SETTINGS})",
            f"ALTER TABLE documents_document RESET ({RESET})",
        ),
    ]
