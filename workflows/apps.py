from __future__ import annotations

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    label = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from workflows import (  # noqa: F401  (registrations)
            client_tab,
            demo,
            panels_dashboard,
            signals,
            timeline_sources,
        )

        signals.connect()
