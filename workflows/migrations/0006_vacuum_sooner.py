"""The tasks table vacuumed after 2% of its rows changed or were added, not
PostgreSQL's 20%: the dashboard counts open tasks per person and the tasks due
this week with index-only scans (task_board_open, task_open_due), which read
the heap for every row on a page not yet marked all-visible. docs/decisions.md."""

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
    dependencies = [("workflows", "0005_due_this_week_index")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE workflows_task SET ({SETTINGS})",
            f"ALTER TABLE workflows_task RESET ({RESET})",
        ),
    ]
