from __future__ import annotations

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from advisoros.tenancy.plans import STORAGE, register_usage
        from documents import (  # noqa: F401  (registrations)
            client_tab,
            demo,
            panels_dashboard,
            timeline_requests,
            timeline_sources,
        )
        from documents.services.documents import stored_bytes

        # The firm's plan limits its stored bytes (advisoros.tenancy.plans).
        register_usage(STORAGE, stored_bytes)
