"""The firm's QuickBooks pages, under /o/<org-slug>/integrations/quickbooks/."""

from __future__ import annotations

from django.urls import path

from integrations.quickbooks import views, views_ledger, views_sync

app_name = "quickbooks"

urlpatterns = [
    path("", views.quickbooks_connection, name="connection"),
    path("connect/", views.quickbooks_connect, name="connect"),
    path("callback/", views.quickbooks_callback, name="callback"),
    path("sync/", views_sync.quickbooks_sync_now, name="sync"),
    path("issues/", views_sync.quickbooks_issues, name="issues"),
    path(
        "clients/<uuid:client_uuid>/pull/",
        views_ledger.client_ledger_pull_now,
        name="ledger_pull",
    ),
    path(
        "issues/<uuid:sync_issue_uuid>/retry/",
        views_sync.quickbooks_issue_retry,
        name="issue_retry",
    ),
    path(
        "issues/<uuid:sync_issue_uuid>/resolve/",
        views_sync.quickbooks_issue_resolve,
        name="issue_resolve",
    ),
    path(
        "<uuid:quickbooks_connection_uuid>/disconnect/",
        views.quickbooks_disconnect,
        name="disconnect",
    ),
]
