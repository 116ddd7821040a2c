"""Fixtures for the audit tests: a file store of the test's own (checkpoints are
written there), and tampering as an attacker with the owner's rights would."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every audit test stores its checkpoints in a folder of its own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def tamper(owner_cursor) -> Callable[..., None]:
    """Run SQL on audit tables past their append-only triggers, as the tables'
    owner role can (tests/conftest.py's owner_cursor: a connection of its own,
    so the test's rows are committed: transactional_db). The owner role is not
    bound by the tenant policies."""

    def run(tables: Iterable[str], sql: str, params: Iterable | None = None) -> None:
        tables = list(tables)
        for table in tables:
            owner_cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        try:
            owner_cursor.execute(sql, params)
        finally:
            for table in tables:
                owner_cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')

    return run
