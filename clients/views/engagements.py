"""Client pages: engagements (being built; see clients/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
