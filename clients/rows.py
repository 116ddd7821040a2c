"""The client list's rows, as HTML built in Python.

Why not a template (templates/clients/client_row.html was one): the engine's
twenty-odd lookups a row cost about 0.07 ms, 3.5 ms a fifty-row page, and the
surname search shows 17 rows in bench-1k against 50 in bench-100k, so that
cost alone took its 100k/1k ratio past the 1.3 target (1.33 measured, 1.22
with these rows: docs/decisions.md, 14). The engagement list, fifty rows at
every size, stays in a template.

The markup uses format_html as in advisoros/widgets.py: every value is escaped
unless it is already safe HTML, so none can be forgotten. format_html costs
about 1.5 µs a value, so what repeats between rows (a member's name, a tag, a
tag) is made once a page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from uuid import UUID

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from clients.models import Client, ClientStatus, EntityType, choice_label

_INACTIVE = mark_safe(' class="inactive"')  # noqa: S308


@lru_cache(maxsize=64)
def _kind_and_status(entity_type: str, status: str) -> SafeString:
    """The type and status cells (choices, not a firm's data: cached for good)."""
    return format_html(
        '<td>{}</td><td><span class="badge badge-status-{}">{}</span></td>',
        choice_label(EntityType, entity_type),
        status,
        choice_label(ClientStatus, status),
    )


def _person(letter: str, title: str, name: str) -> SafeString:
    return format_html(
        '<span><abbr title="{}">{}</abbr> {}</span>', title, letter, name
    )


def _chips(tags: tuple[tuple[str, str], ...]) -> SafeString:
    """The tags cell's chips, from (color, name) pairs."""
    return format_html_join(
        "",
        '<span class="chip"><svg class="chip-dot" viewBox="0 0 8 8" width="8"'
        ' height="8" aria-hidden="true"><circle cx="4" cy="4" r="4"'
        ' fill="{}"/></svg>{}</span>',
        tags,
    )


# A row: {0} archived class, {1} uuid, {2} URL, {3} name, {4} legal name, {5} code,
# {6} type and status, {7}-{9} partner, manager and staff, {10} tags, {11} tax id.
_CELLS = (
    '<td><a href="{2}">{3}</a>{4}</td><td class="mono">{5}</td>{6}'
    '<td class="team">{7}{8}{9}</td><td class="tags">{10}</td>'
    '<td class="mono nowrap">{11}</td></tr>'
)
_ROW = "<tr{0}>" + _CELLS
_ROW_WITH_CHECK = (
    '<tr{0}><td class="check"><input type="checkbox" name="clients" value="{1}"'
    ' aria-label="Select {3}"></td>' + _CELLS
)


def client_rows(
    clients: list[Client], *, url: Callable[[UUID], str], can_edit: bool
) -> None:
    """Set each client's `row_html`: check box (for members who may edit),
    name and legal name, code, type, status, team, tags and masked tax id.

    `clients` come from clients.selectors.client_page (team and `tag_list`
    loaded); `url(uuid)` is the client page's address."""
    row = _ROW_WITH_CHECK if can_edit else _ROW
    # Fifty rows share a few members and sets of tags: each is made once a page.
    person = cache(_person)
    chips = cache(_chips)
    for c in clients:
        partner, manager, staff = c.partner, c.manager, c.staff
        c.row_html = format_html(
            row,
            _INACTIVE if c.is_archived else "",
            c.uuid,
            url(c.uuid),
            c.display_name,
            format_html('<small class="muted legal-name">{}</small>', c.legal_name)
            if c.legal_name and c.legal_name != c.display_name
            else "",
            c.client_code,
            _kind_and_status(c.entity_type, c.status),
            person("P", "Partner", partner.name or partner.email) if partner else "",
            person("M", "Manager", manager.name or manager.email) if manager else "",
            person("S", "Staff", staff.name or staff.email) if staff else "",
            chips(tuple((t.color, t.name) for t in c.tag_list)),
            c.tax_id_masked,
        )
