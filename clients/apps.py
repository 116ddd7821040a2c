from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    label = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from advisoros.audit.privacy import register_private_fields
        from advisoros.tenancy.plans import CLIENTS, register_usage
        from clients import demo, timeline_sources  # noqa: F401  (registrations)
        from clients.models import Note
        from clients.services.clients import clients_counted

        # The firm's plan limits its clients (advisoros.tenancy.plans).
        register_usage(CLIENTS, clients_counted)

        # A private note is its author's alone: the change log records that it
        # was written or changed, and by whom, never its body.
        register_private_fields(Note, flag="is_private", fields=["body"])
