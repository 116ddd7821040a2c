"""The CRM's big tables are read by pages, 50 rows at a time: no parallel scans.

A parallel plan pays for starting workers and, on a small server, shares its
cores with the web workers; for a page it costs more than it saves (a client
search at 100,000 clients: 35 ms in parallel, 19 ms without). Reports that
want parallel scans can `SET LOCAL` their own plan settings.
"""

from django.db import migrations

TABLES = ("clients_client", "clients_clientsearchtoken", "clients_engagement")


class Migration(migrations.Migration):
    dependencies = [("clients", "0005_bench_indexes")]

    operations = [
        migrations.RunSQL(
            [f"ALTER TABLE {table} SET (parallel_workers = 0)" for table in TABLES],
            [f"ALTER TABLE {table} RESET (parallel_workers)" for table in TABLES],
        )
    ]
