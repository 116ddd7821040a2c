from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "advisoros.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from advisoros.audit import receivers  # noqa: F401
