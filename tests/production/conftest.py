"""Fixtures of the production-shape tests."""

from __future__ import annotations

# The qcluster starter of the ORM-broker tests, for the Redis ones.
from tests.workflows.test_qcluster import start_qcluster  # noqa: F401
