"""The bench's own pages, under /__bench__/ (included only when the app is installed)."""

from __future__ import annotations

from django.urls import path

from bench.views import floor

app_name = "bench"

urlpatterns = [
    path("floor/", floor, name="floor"),
]
