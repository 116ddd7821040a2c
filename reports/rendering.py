"""A statement's table body, built in Python: a measured page needs it.

A statement of a client with 2,000 accounts has 2,000 rows of three to six
figures; Django's template engine spent about 150 ms drawing them (a variable
lookup and a filter per figure), and `format_html` a row still 10 microseconds
(20 ms a page) on a busy two-core machine. So the account rows, the bulk, are
joined as strings around the standard library's `html.escape()` (what
Django's `escape` calls, without its lazy-text wrapper) of their one text,
the account's name from the client's books; headings and totals use
`format_html`. The figures
are our own formatting of Decimals (digits, commas, a point and a minus sign,
or a dash for no data), which need no escaping.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from reports.statements import Row, Statement

NO_DATA = "—"


def figure(value: Decimal | None) -> str:
    """1234.5 -> "1,234.50"; None (a column with no data) -> a dash."""
    if value is None:
        return NO_DATA
    # Half the figures of a trial balance are zeros (the other side).
    return f"{value:,.2f}" if value else "0.00"


def _cells(amounts: Sequence[Decimal | None], strong: bool) -> str:
    if strong:
        return "".join(
            f'<td class="num"><strong>{figure(v)}</strong></td>'
            if v is not None
            else f'<td class="num">{NO_DATA}</td>'
            for v in amounts
        )
    return "".join(f'<td class="num">{figure(v)}</td>' for v in amounts)


def _row(row: Row, width: int) -> str:
    if row.kind == "account":
        # The one text escaped; level is an int, the cells figures (see above).
        return (
            f'<tr><td class="level-{int(row.level)}">{escape(row.label)}</td>'
            f"{_cells(row.amounts, strong=False)}</tr>"
        )
    if row.kind == "heading":
        return format_html(
            '<tr class="statement-heading"><th scope="rowgroup" colspan="{}" '
            'class="level-{}">{}</th></tr>',
            width,
            row.level,
            row.label,
        )
    return format_html(
        '<tr class="statement-{}"><th scope="row">{}</th>{}</tr>',
        row.kind,
        row.label,
        mark_safe(_cells(row.amounts, strong=True)),  # noqa: S308 (figures only)
    )


def statement_rows_html(statement: Statement) -> SafeString:
    """The <tr> elements of the statement's <tbody>."""
    width = 1 + len(statement.columns) * len(statement.sub_columns)
    # Safe: format_html's output, or account rows whose one text is escaped.
    return mark_safe("\n".join(_row(row, width) for row in statement.rows))  # noqa: S308
