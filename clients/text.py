"""Text folding shared by the client model, search and imports."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case ASCII: 'José Müller' -> 'jose muller'."""
    text = text or ""
    if text.isascii():
        return text.lower()  # nothing to decompose: the common case, fast
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
