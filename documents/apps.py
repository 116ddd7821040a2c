from __future__ import annotations

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from documents import (  # noqa: F401  (registrations)
            client_tab,
            demo,
            timeline_requests,
            timeline_sources,
        )
