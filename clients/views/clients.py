"""Client pages: clients (being built; see clients/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
