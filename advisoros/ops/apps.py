from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the platform: health endpoints, structured logs, error reports,
    the migration linter and the superusers' operations page (docs/deploy.md)."""

    name = "advisoros.ops"
    label = "ops"
    verbose_name = "Platform operations"
