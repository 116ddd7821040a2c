"""Fixtures for the documents tests: a client of Beta (Alpha's is the shared
`jane`), and a file store of the test's own (a temporary MEDIA_ROOT), so what a
test stores, or fails to leave behind, is visible by listing that folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.models import Client
from tests.factories import make_client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every documents test stores its files in a folder of its own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root: Path) -> list[Path]:
    """Every file under the storage folder (uploads in progress included)."""
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture
def beta_client(cast) -> Client:
    return make_client(cast.beta, "Bob Beta")
