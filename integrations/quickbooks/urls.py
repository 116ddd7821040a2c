"""The firm's QuickBooks pages, under /o/<org-slug>/integrations/quickbooks/."""

from __future__ import annotations

from django.urls import path

from integrations.quickbooks import views

app_name = "quickbooks"

urlpatterns = [
    path("", views.quickbooks_connection, name="connection"),
    path("connect/", views.quickbooks_connect, name="connect"),
    path("callback/", views.quickbooks_callback, name="callback"),
    path(
        "<uuid:quickbooks_connection_uuid>/disconnect/",
        views.quickbooks_disconnect,
        name="disconnect",
    ),
]
