"""The migration linter: what old code cannot survive during a rolling deploy.

The migrations judged here are a made-up app's (tests/ops/fake_migrations),
read as Django reads any app's; the command is also run on the project's own.
"""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.migrations.state import ProjectState

from advisoros.ops.migration_lint import migration_findings

FAKE = "tests.ops.fake_migrations"
LARGE = frozenset({"ledger_entry"})


def _migration(name: str):
    return importlib.import_module(f"{FAKE}.{name}").Migration(name, "ledger")


def _state_after(*names: str) -> ProjectState:
    state = ProjectState()
    for name in names:
        state = _migration(name).mutate_state(state, preserve=False)
    return state


def _rules(name: str, *before: str, large=LARGE) -> list[str]:
    findings = migration_findings(
        _migration(name), _state_after(*before), large_tables=large
    )
    return [finding.rule for finding in findings]


def test_a_new_table_with_its_indexes_passes():
    assert _rules("0001_initial", large=frozenset({"ledger_entry"})) == []


def test_each_step_that_breaks_old_code_is_refused():
    assert _rules("0002_unsafe", "0001_initial") == [
        "not-null",
        "add-not-null",
        "index-lock",
        "sql-index-lock",
        "rename-field",
        "remove-field",
        "rename-model",
        "delete-model",
    ]


def test_an_index_locks_only_a_table_listed_as_large():
    rules = _rules("0002_unsafe", "0001_initial", large=frozenset())

    assert "index-lock" not in rules
    assert "sql-index-lock" in rules  # raw SQL is not read for its table


def test_the_expand_steps_pass():
    assert _rules("0003_expand", "0001_initial") == []


def test_a_marked_contract_step_may_remove_but_not_lock():
    assert _rules("0004_contract", "0001_initial", "0003_expand") == ["index-lock"]


def test_the_finding_says_what_to_do():
    (finding, *_) = migration_findings(
        _migration("0004_contract"),
        _state_after("0001_initial", "0003_expand"),
        large_tables=LARGE,
    )

    assert finding.migration == "ledger.0004_contract"
    assert "AddIndexConcurrently" in finding.message


def test_the_command_lints_what_is_not_in_the_baseline(tmp_path):
    empty = tmp_path / "baseline.txt"
    empty.write_text("# nothing yet\n")
    out = StringIO()

    with pytest.raises(CommandError, match="rolling deploy"):
        call_command("lint_migrations", baseline=str(empty), stdout=out)

    assert (
        "documents.0009_document_scan_pending: add-not-null: adds "
        "document.scan_error NOT NULL" in out.getvalue()
    )


def test_the_command_passes_every_migration_in_the_baseline(tmp_path):
    baseline = tmp_path / "baseline.txt"
    call_command("lint_migrations", baseline=str(baseline), write_baseline=True)
    out = StringIO()

    call_command("lint_migrations", baseline=str(baseline), stdout=out)

    assert "documents.0001_initial" in baseline.read_text()
    assert "0 migration(s) after the baseline" in out.getvalue()


def test_steps_that_hide_a_drop_or_an_index_build_are_refused():
    assert _rules("0005_hidden", "0001_initial") == [
        "remove-field",
        "index-lock",
        "index-lock",
        "index-lock",
        "sql-contract",
        "sql-contract",
    ]


def test_hidden_index_builds_pass_on_a_table_not_listed_as_large():
    rules = _rules("0005_hidden", "0001_initial", large=frozenset())

    assert "index-lock" not in rules
