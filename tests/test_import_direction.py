"""A lower app never names an upper one, not even as a dotted string.

The order (ARCHITECTURE.md): ... -> workflows -> documents -> clients -> advisoros.
Where a lower app needs an upper one to act, it sends a signal or lets the upper
app declare itself (schedules.py, client tabs); an import or a dotted path would
hide the cycle from the linter. The project's wiring (settings, root URLconf)
names every app by design.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

# Lowest first; a new app joins the list at its place.
ORDER = ["advisoros", "clients", "documents", "workflows"]
WIRING = {"advisoros/settings.py", "advisoros/urls.py"}


def _sources(app: str) -> list[Path]:
    root = Path(settings.BASE_DIR)
    return sorted(
        path
        for path in (root / app).rglob("*.py")
        if path.relative_to(root).as_posix() not in WIRING
    )


@pytest.mark.parametrize("app", ORDER[:-1])
def test_a_lower_app_does_not_name_an_upper_one(app):
    uppers = "|".join(ORDER[ORDER.index(app) + 1 :])
    named = re.compile(rf"\b(?:from|import)\s+(?:{uppers})\b|\b(?:{uppers})\.\w")
    offences = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}: {line.strip()}"
        for path in _sources(app)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if named.search(line)
    ]

    assert offences == []
