# The indexes of the workflow pages (My work, the board, the workload page, the
# notifications page), written by hand.
#
# They index an expression (the due date with undated tasks last, see
# workflows.selectors.due_sort) under partial predicates, so they are plain SQL
# the model state does not track: makemigrations neither sees nor drops them.
# tests/workflows/test_board_query_plans.py proves each one is used.
from __future__ import annotations

from django.db import migrations

OPEN = "('pending', 'ready', 'in_progress', 'in_review')"
ACTIONABLE = "('ready', 'in_progress', 'in_review')"
DUE_SORT = "COALESCE(due_date, '9999-12-31'::date)"

INDEXES = {
    # My work: one person's actionable tasks by due date, a keyset page at any depth.
    "task_my_work": (
        f"(organization_id, assignee_id, {DUE_SORT}, id) WHERE status IN {ACTIONABLE}"
    ),
    # The board's open columns (each a bounded slice by due date), their capped
    # counts, and the workload page's sums, all from the index alone.
    "task_board_open": (
        f"(organization_id, status, {DUE_SORT}, id)"
        f" INCLUDE (assignee_id, budgeted_minutes, due_date) WHERE status IN {OPEN}"
    ),
    # The board's "completed lately" column.
    "task_recently_completed": (
        "(organization_id, completed_at DESC, id DESC) WHERE status = 'completed'"
    ),
    # The client timeline's completed tasks.
    "task_client_completed": (
        "(client_id, completed_at DESC) WHERE status = 'completed'"
    ),
}
NOTIFICATION_INDEXES = {
    # The notifications page: a person's notices, newest first.
    "notification_user_newest": "(organization_id, user_id, created_at DESC, id DESC)",
}


def _create(table: str, indexes: dict[str, str]) -> list[migrations.RunSQL]:
    return [
        migrations.RunSQL(
            f"CREATE INDEX {name} ON {table} {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in indexes.items()
    ]


class Migration(migrations.Migration):
    dependencies = [("workflows", "0002_engine")]

    operations = [
        *_create("workflows_task", INDEXES),
        *_create("workflows_notification", NOTIFICATION_INDEXES),
    ]
