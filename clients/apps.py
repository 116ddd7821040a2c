from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    label = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from clients import demo, timeline_sources  # noqa: F401  (registrations)
