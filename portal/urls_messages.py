"""The portal's secure messages, under /p/<org-slug>/ (namespace `portal`)."""

from __future__ import annotations

from django.urls import path

from portal.views import messages

urlpatterns = [
    path("messages/", messages.message_list, name="messages"),
    path(
        "messages/<uuid:client_uuid>/",
        messages.message_thread,
        name="message_thread",
    ),
]
