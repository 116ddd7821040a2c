"""Fixtures for the audit tests: a file store of the test's own (checkpoints are
written there), and the database owner's cursor for tampering as an attacker
with the owner's rights would."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every audit test stores its checkpoints in a folder of its own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def owner_cursor():
    """A cursor with the tables' owner's rights. In this branch the application
    role owns the tables, so it is the test's own connection; the lead points it
    at the owner role's connection once the application role owns nothing."""
    with connection.cursor() as cursor:
        yield cursor


@pytest.fixture
def tamper(owner_cursor) -> Callable[..., None]:
    """Run SQL on audit tables past their append-only triggers and row-level
    security, as the tables' owner can: switch both off, run, switch them on."""

    def run(tables: Iterable[str], sql: str, params: Iterable | None = None) -> None:
        tables = list(tables)
        # Deferred foreign-key checks pending on a table block ALTER TABLE.
        owner_cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            owner_cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
            owner_cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        owner_cursor.execute(sql, params)
        for table in tables:
            owner_cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            owner_cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        owner_cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    return run
