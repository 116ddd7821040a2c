"""The firm's side of the secure messages, under /o/<org-slug>/portal/
(namespace `portal_staff`)."""

from __future__ import annotations

from django.urls import path

from portal.views import staff_messages

urlpatterns = [
    path("messages/", staff_messages.inbox, name="inbox"),
    path("messages/<uuid:client_uuid>/", staff_messages.thread, name="thread"),
]
