from __future__ import annotations

from django.urls import path

from advisoros.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("export.csv", views.audit_export, name="export"),
    path("integrity/", views.audit_integrity, name="integrity"),
    path("integrity/checkpoint", views.audit_checkpoint, name="checkpoint"),
]
