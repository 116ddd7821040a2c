"""Migrations that old code survives: the rules `manage.py lint_migrations` applies.

During a rolling deploy the new schema is in place while old processes still
run (web processes being replaced, workers finishing their jobs), and after a
failed release the old code comes back on the new schema. So a migration may
only *expand* the schema; what old code reads or writes is removed in a later
release (expand, migrate, contract: docs/deploy.md). Refused:

- `remove-field`, `delete-model`: old code still selects the column or table.
- `rename-field`, `rename-model`: old code asks for the old name.
- `not-null`: AlterField making a column NOT NULL with no database default:
  old code still inserts rows without it.
- `add-not-null`: AddField of a NOT NULL column with no database default
  (`db_default`): Django drops the default it fills existing rows with, so old
  code's inserts fail.
- `index-lock`: an index built on a table listed in LARGE_TABLES: AddIndex, a
  unique constraint, unique_together, or a field that brings its own (a
  foreign key, `db_index`, `unique`) added or altered: CREATE INDEX without
  CONCURRENTLY locks writes for the build. Use AddIndexConcurrently in a
  non-atomic migration.
- `sql-index-lock`: RunSQL with CREATE INDEX without CONCURRENTLY, any table.
- `sql-contract`: RunSQL that drops or renames a column or table, or sets a
  column NOT NULL: what the rules above refuse, written by hand.

The database operations of SeparateDatabaseAndState are judged like any others.

A migration that is the *contract* step says so, with why it is safe now:

    class Migration(migrations.Migration):
        contract = "Release 2027.02 stopped reading Client.fax (expand: 0031)."

which allows the first five and `sql-contract`; the index rules have no such exit (the fix is
always CONCURRENTLY). Migrations listed in the baseline file (every migration
that existed when the linter came) are not linted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

BASELINE_FILE = Path(__file__).resolve().parent / "migration_baseline.txt"
# Tables big enough that a locking index build stops a firm's work (bench/,
# docs/dashboard.md): documents, the audit trail, time and invoices, tasks.
LARGE_TABLES = frozenset(
    {
        "audit_auditevent",
        "audit_logentry",
        "billing_invoice",
        "billing_invoiceline",
        "billing_timeentry",
        "clients_client",
        "clients_clientsearchtoken",
        "documents_document",
        "django_q_task",
        "workflows_task",
    }
)
CONTRACT_RULES = frozenset(
    {
        "remove-field",
        "delete-model",
        "rename-field",
        "rename-model",
        "not-null",
        "add-not-null",
        "sql-contract",
    }
)
CREATE_INDEX = re.compile(
    r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY\b)", re.IGNORECASE
)
CONTRACT_SQL = re.compile(
    r"\bDROP\s+(?:COLUMN|TABLE)\b|\bALTER\s+TABLE\b[^;]*?\bRENAME\b"
    r"|\bSET\s+NOT\s+NULL\b",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Finding:
    migration: str  # "app_label.name"
    rule: str
    message: str


def _table(state: ProjectState, app_label: str, model_name: str) -> str:
    model = state.models.get((app_label, model_name.lower()))
    if model is not None and model.options.get("db_table"):
        return model.options["db_table"]
    return f"{app_label}_{model_name.lower()}"


def _old_field(state: ProjectState, app_label: str, op) -> models.Field | None:
    model = state.models.get((app_label, op.model_name_lower))
    return model.fields.get(op.name) if model is not None else None


def _has_database_default(field: models.Field) -> bool:
    return field.db_default is not models.NOT_PROVIDED


def _indexed(field: models.Field | None) -> bool:
    """The field brings an index of its own (a foreign key, db_index, unique)."""
    return (
        field is not None and not field.primary_key and (field.db_index or field.unique)
    )


def _index_lock(table: str, what: str) -> tuple[str, str]:
    return (
        "index-lock",
        f"{what} on the large table {table} builds an index without CONCURRENTLY: "
        "add the field without its index, then AddIndexConcurrently (atomic = False)",
    )


def _sql_statements(sql) -> list[str]:
    """RunSQL's forward SQL: a string, or a list of strings or (sql, params)."""
    if isinstance(sql, str):
        return [sql]
    return [item[0] if isinstance(item, list | tuple) else item for item in sql]


def _operation_findings(
    app_label: str, op, state: ProjectState, large_tables: frozenset
) -> list[tuple[str, str]]:
    """(rule, message) for one operation, given the state just before it."""
    found: list[tuple[str, str]] = []
    if isinstance(op, migrations.SeparateDatabaseAndState):
        # What runs on the database, whatever the state says.
        db_state = state.clone()
        for db_op in op.database_operations:
            found.extend(_operation_findings(app_label, db_op, db_state, large_tables))
            db_op.state_forwards(app_label, db_state)
    elif isinstance(op, migrations.RemoveField):
        found.append(
            ("remove-field", f"removes {op.model_name}.{op.name}, old code reads it")
        )
    elif isinstance(op, migrations.DeleteModel):
        found.append(("delete-model", f"deletes {op.name}, old code reads it"))
    elif isinstance(op, migrations.RenameField):
        found.append(
            (
                "rename-field",
                f"renames {op.model_name}.{op.old_name}: add the new field, copy, "
                "remove the old one in a later release",
            )
        )
    elif isinstance(op, migrations.RenameModel):
        found.append(("rename-model", f"renames {op.old_name}: old code asks for it"))
    elif isinstance(op, migrations.AlterField):
        old = _old_field(state, app_label, op)
        table = _table(state, app_label, op.model_name)
        if table in large_tables and _indexed(op.field) and not _indexed(old):
            found.append(_index_lock(table, f"altering {op.model_name}.{op.name}"))
        if (
            old is not None
            and old.null
            and not op.field.null
            and not _has_database_default(op.field)
        ):
            found.append(
                (
                    "not-null",
                    f"makes {op.model_name}.{op.name} NOT NULL with no db_default: "
                    "old code inserts rows without it",
                )
            )
    elif isinstance(op, migrations.AddField):
        field = op.field
        table = _table(state, app_label, op.model_name)
        if table in large_tables and _indexed(field):
            found.append(_index_lock(table, f"adding {op.model_name}.{op.name}"))
        if (
            not field.null
            and not field.many_to_many
            and not _has_database_default(field)
        ):
            found.append(
                (
                    "add-not-null",
                    f"adds {op.model_name}.{op.name} NOT NULL with no db_default: "
                    "old code's inserts fail (add it nullable or with db_default)",
                )
            )
    elif isinstance(op, migrations.AddIndex) and not isinstance(
        op, AddIndexConcurrently
    ):
        table = _table(state, app_label, op.model_name)
        if table in large_tables:
            found.append(
                (
                    "index-lock",
                    f"builds index {op.index.name} on the large table {table} "
                    "without CONCURRENTLY: use AddIndexConcurrently (atomic = False)",
                )
            )
    elif isinstance(op, migrations.AddConstraint) and isinstance(
        op.constraint, models.UniqueConstraint
    ):
        table = _table(state, app_label, op.model_name)
        if table in large_tables:
            found.append(
                (
                    "index-lock",
                    f"adds unique constraint {op.constraint.name} on the large table "
                    f"{table}, which builds its index without CONCURRENTLY: build a "
                    "unique index concurrently first (RunSQL), then attach it",
                )
            )
    elif isinstance(op, migrations.AlterUniqueTogether | migrations.AlterIndexTogether):
        table = _table(state, app_label, op.name)
        model = state.models.get((app_label, op.name_lower))
        before = set(model.options.get(op.option_name) or ()) if model else set()
        if table in large_tables and set(op.option_value or ()) - before:
            found.append(_index_lock(table, f"{op.option_name} of {op.name}"))
    elif isinstance(op, migrations.RunSQL):
        for statement in _sql_statements(op.sql):
            if CONTRACT_SQL.search(statement):
                found.append(
                    (
                        "sql-contract",
                        "RunSQL drops, renames or sets NOT NULL: old code still "
                        "uses it (a contract step, or expand first)",
                    )
                )
            if CREATE_INDEX.search(statement):
                found.append(
                    (
                        "sql-index-lock",
                        "RunSQL creates an index without CONCURRENTLY (and the "
                        "migration must be atomic = False to use it)",
                    )
                )
                break
    return found


def migration_findings(
    migration: Migration,
    state: ProjectState,
    *,
    large_tables: frozenset[str] = LARGE_TABLES,
) -> list[Finding]:
    """What in `migration` breaks old code, given the project state before it.
    The state is advanced through the migration's operations as they go."""
    label = f"{migration.app_label}.{migration.name}"
    contract = str(getattr(migration, "contract", "") or "").strip()
    state = state.clone()
    findings = []
    # Tables this migration makes: no old code knows them, and they are empty.
    created: set[str] = set()
    for op in migration.operations:
        if isinstance(op, migrations.CreateModel):
            created.add(op.name_lower)
        model = getattr(op, "model_name_lower", None)
        if isinstance(op, migrations.operations.models.AlterTogetherOptionOperation):
            model = op.name_lower
        if model in created:
            op.state_forwards(migration.app_label, state)
            continue
        for rule, message in _operation_findings(
            migration.app_label, op, state, large_tables
        ):
            if contract and rule in CONTRACT_RULES:
                continue
            findings.append(Finding(label, rule, message))
        op.state_forwards(migration.app_label, state)
    return findings


def baseline_read(path: Path = BASELINE_FILE) -> set[tuple[str, str]]:
    """The (app_label, name) pairs that are not linted."""
    if not path.exists():
        return set()
    pairs = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            app_label, name = line.split(".", 1)
            pairs.add((app_label, name))
    return pairs


def project_migrations_findings(
    *,
    baseline: set[tuple[str, str]],
    app_labels: set[str],
    large_tables: frozenset[str] = LARGE_TABLES,
) -> tuple[list[Finding], int]:
    """Lint every migration of `app_labels` on disk that is not in the
    baseline; returns the findings and how many migrations were linted.

    One pass over the whole graph in order, carrying the project state along
    (as `makemigrations` does), so each migration is judged against the
    schema just before it."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    plan: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for leaf in sorted(graph.leaf_nodes()):
        for node in graph.forwards_plan(leaf):
            if node not in seen:
                seen.add(node)
                plan.append(node)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    findings: list[Finding] = []
    linted = 0
    for node in plan:
        migration = graph.nodes[node]
        if node[0] in app_labels and node not in baseline:
            linted += 1
            findings.extend(
                migration_findings(migration, state, large_tables=large_tables)
            )
        state = migration.mutate_state(state, preserve=False)
    return findings, linted
