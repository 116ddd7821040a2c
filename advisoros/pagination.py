"""Keyset pagination: a page starts after the last row of the one before.

OFFSET pagination reads and throws away every row before the page, so page
500 of a big firm's list is slow; a keyset page is an index range scan that
costs the same at any depth. The cursor carries the sort key of the edge row,
signed so a visitor cannot hand-craft one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core import signing
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

_SALT = "advisoros.keyset"


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.prev_cursor is not None


def _kind(value: Any) -> str:
    if isinstance(value, datetime):
        return "dt"
    return "d" if isinstance(value, date) else ""


_PARSE = {"dt": datetime.fromisoformat, "d": date.fromisoformat}


def _encode(values: list[Any], direction: str) -> str:
    kinds = [_kind(v) for v in values]
    plain = [v.isoformat() if k else v for v, k in zip(values, kinds, strict=True)]
    return signing.dumps(
        {"v": plain, "k": kinds, "d": direction}, salt=_SALT, compress=True
    )


def _decode(cursor: str) -> tuple[list[Any], str] | None:
    try:
        data = signing.loads(cursor, salt=_SALT)
        values = [
            _PARSE[kind](v) if kind else v
            for v, kind in zip(data["v"], data["k"], strict=True)
        ]
        return values, data["d"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None  # a stale or forged cursor: start from the first page


def keyset_page(
    qs: QuerySet,
    *,
    keys: tuple[str, ...],
    descending: bool = False,
    cursor: str | None,
    size: int,
) -> KeysetPage:
    """One page of `qs` ordered by `keys` (all ascending or all descending; the
    last key must be unique, e.g. the primary key)."""
    decoded = _decode(cursor) if cursor else None
    backwards = decoded is not None and decoded[1] == "prev"
    lhs = Tuple(*(F(k) for k in keys))
    if decoded is not None:
        rhs = tuple(decoded[0])
        after = (TupleLessThan if descending != backwards else TupleGreaterThan)(
            lhs, rhs
        )
        qs = qs.filter(after)
    forward_desc = descending != backwards
    qs = qs.order_by(*(f"-{k}" if forward_desc else k for k in keys))
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    if not rows:
        return KeysetPage([], None, None)

    def key_of(row) -> list[Any]:
        # Model instances, or dicts from .values().
        return [row[k] if isinstance(row, dict) else getattr(row, k) for k in keys]

    has_next = more if not backwards else True
    has_prev = (decoded is not None) if not backwards else more
    return KeysetPage(
        rows,
        _encode(key_of(rows[-1]), "next") if has_next else None,
        _encode(key_of(rows[0]), "prev") if has_prev else None,
    )
