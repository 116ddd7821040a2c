"""Fixtures for the documents tests: a client of Alpha, and a file store of the test's
own (a temporary MEDIA_ROOT), so what a test stores, or fails to leave behind, is
visible by listing that folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisoros.tenancy.db import tenant_context
from clients.models import Client
from clients.services.clients import client_create


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
def jane(cast) -> Client:
    """A client of Alpha that everyone in Alpha may see."""
    with tenant_context(cast.alpha):
        return client_create(organization=cast.alpha, data={"display_name": "Jane Doe"})


@pytest.fixture
def beta_client(cast) -> Client:
    with tenant_context(cast.beta):
        return client_create(organization=cast.beta, data={"display_name": "Bob Beta"})
