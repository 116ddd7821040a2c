"""Fixtures for the invoice pages' tests: a file store of the test's own (the
invoices' PDFs land there), and a draft and an issued invoice of Jane's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_draft_invoice, make_issued_invoice


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every billing test stores its files (invoice PDFs) in a folder of its own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def draft(cast, jane):
    """Jane's draft: one fixed-fee line, a tax return at 500.00."""
    return make_draft_invoice(jane, cast.sam)


@pytest.fixture
def issued(cast, jane):
    """Jane's INV-00001 for 500.00, issued and owed in full."""
    return make_issued_invoice(jane, cast.sam)
