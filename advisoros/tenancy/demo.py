"""Demo data registry: `manage.py seed_demo` creates the firms and people, then lets
each app add its own demo records (clients, documents, work) through a seeder it
registers here in its AppConfig.ready. Seeders run inside the firm's context and
must be idempotent: seed_demo may run again on the same database."""

from __future__ import annotations

from collections.abc import Callable

DemoSeeder = Callable[..., None]
_seeders: list[DemoSeeder] = []


def register_demo_seeder(seeder: DemoSeeder) -> DemoSeeder:
    """`seeder(organization=..., people={email: User}, stdout=...)`."""
    if seeder not in _seeders:
        _seeders.append(seeder)
    return seeder


def demo_seeders() -> list[DemoSeeder]:
    return list(_seeders)
