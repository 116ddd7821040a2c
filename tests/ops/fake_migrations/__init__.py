"""Migrations of a made-up app ("ledger"), never installed: the linter reads
them as it reads a real app's (tests/ops/test_migration_lint.py)."""
