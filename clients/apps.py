from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    label = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from advisoros.audit.privacy import register_private_fields
        from clients import demo, timeline_sources  # noqa: F401  (registrations)
        from clients.models import Note

        # A private note is its author's alone: the change log records that it
        # was written or changed, and by whom, never its body.
        register_private_fields(Note, flag="is_private", fields=["body"])
