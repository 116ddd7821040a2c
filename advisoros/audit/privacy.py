"""Private rows in the change log: fields it never shows while a row is private.

A model whose rows can be private to one person (a client note: its author
alone reads its body) registers the flag that makes a row private and the
fields that hold its content:

    register_private_fields(Note, flag="is_private", fields=["body"])

The registering app calls this from its AppConfig.ready, as timeline sources
do: `advisoros` names no domain model. Two places apply the rule, with the same
rule in both: a change made while the row is private before it or after it
records the content fields masked on both sides, so the log shows that the
content changed and who changed it, never what it says.

- Writing (`mask_private_changes`): every entry django-auditlog writes
  (`TenantLogEntryManager.log_create`) and every bulk "created" entry
  (`audit.services.log_created`). A note made public logs its content normally
  from its next change on.
- Showing (`redact_private_changes`): the audit page, its CSV export and the
  admin, for rows written before this rule existed. The audit table is
  append-only (a trigger refuses UPDATE), so old rows are redacted as they are
  read, never rewritten. An update row that did not touch the flag does not say
  whether the row was private then: the row's history says it, or failing that
  its current state; with neither (a deleted row never seen private or public),
  it counts as private.

Nobody is exempt on display, the author included: the audit trail is the
firm's record of who did what, and a private note's body is read on the note.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditlog import get_logentry_model
from auditlog.diff import get_mask_function
from django.db import models

if TYPE_CHECKING:
    from advisoros.audit.models import LogEntry


@dataclass(frozen=True)
class PrivateFields:
    flag: str  # a BooleanField: True while the row is private
    fields: frozenset[str]  # what the change log masks while it is


_registry: dict[type[models.Model], PrivateFields] = {}


def register_private_fields(
    model: type[models.Model], *, flag: str, fields: Iterable[str]
) -> None:
    _registry[model._meta.concrete_model] = PrivateFields(flag, frozenset(fields))


def private_fields_of(model: type[models.Model] | None) -> PrivateFields | None:
    if model is None:
        return None
    return _registry.get(model._meta.concrete_model)


def _says_private(values: Any) -> bool:
    """A recorded change of the flag, [old, new]: private on either side?

    Values are strings ("True") in text mode, booleans in auditlog's JSON mode.
    """
    if not isinstance(values, list | tuple):
        return False
    return any(str(value) == "True" for value in values)


def _masked(changes: dict, spec: PrivateFields) -> dict:
    mask = get_mask_function()
    return {
        name: (
            [mask(str(value)) for value in values]
            if name in spec.fields and isinstance(values, list | tuple)
            else values
        )
        for name, values in changes.items()
    }


def mask_private_changes(instance: models.Model, changes: dict | None) -> dict | None:
    """The changes to record for `instance`, its content masked if it is private
    now (after a creation or an edit, before a deletion) or was before this change."""
    spec = private_fields_of(type(instance))
    if spec is None or not changes:
        return changes
    if getattr(instance, spec.flag) or _says_private(changes.get(spec.flag)):
        return _masked(changes, spec)
    return changes


def redact_private_changes(entries: Sequence[LogEntry]) -> None:
    """Mask, in memory, the private content that older `entries` still hold.

    Costs nothing when no entry is of a registered model; otherwise at most two
    queries for the whole batch (the flag's history, then the current state of
    rows with no history), however many entries there are.
    """
    by_model: dict[type[models.Model], list[LogEntry]] = defaultdict(list)
    for entry in entries:
        model = entry.content_type.model_class()
        if private_fields_of(model) is not None and entry.changes:
            by_model[model].append(entry)
    for model, model_entries in by_model.items():
        spec = _registry[model._meta.concrete_model]
        private = _private_entries(model, spec, model_entries)
        for entry in model_entries:
            if entry.pk in private:
                entry.changes = _masked(entry.changes, spec)


def _private_entries(
    model: type[models.Model], spec: PrivateFields, entries: list[LogEntry]
) -> set[int]:
    """Ids of the entries made while their row was private (before or after)."""
    private = {e.pk for e in entries if _says_private(e.changes.get(spec.flag))}
    unsure = [
        e
        for e in entries
        if spec.flag not in e.changes and any(name in e.changes for name in spec.fields)
    ]
    if not unsure:
        return private
    history = _flag_history(spec, unsure)
    # The flag did not change in an unsure entry: it was what the nearest
    # earlier recorded change left, or what the nearest later one found.
    undecided: list[LogEntry] = []
    for entry in unsure:
        state = _state_at(entry, history.get(entry.object_id, []))
        if state is None:
            undecided.append(entry)
        elif state:
            private.add(entry.pk)
    if undecided:
        current = dict(
            model._base_manager.filter(
                pk__in={e.object_id for e in undecided}
            ).values_list("pk", spec.flag)
        )
        # A row that is gone and was never recorded either way: assume the worst.
        private.update(e.pk for e in undecided if current.get(e.object_id, True))
    return private


def _flag_history(
    spec: PrivateFields, entries: list[LogEntry]
) -> dict[int, list[tuple[int, list]]]:
    """Every recorded change of the flag of the entries' rows, oldest first."""
    LogEntry = get_logentry_model()
    rows = (
        LogEntry.objects.filter(
            organization_id__in={e.organization_id for e in entries},
            content_type_id=entries[0].content_type_id,
            object_id__in={e.object_id for e in entries},
            changes__has_key=spec.flag,
        )
        .order_by("object_id", "pk")
        .values_list("object_id", "pk", f"changes__{spec.flag}")
    )
    history: dict[int, list[tuple[int, list]]] = defaultdict(list)
    for object_id, pk, values in rows:
        history[object_id].append((pk, values))
    return history


def _state_at(entry: LogEntry, history: list[tuple[int, list]]) -> bool | None:
    """The flag while `entry` was written, from the row's recorded flag changes."""
    earlier = [values for pk, values in history if pk < entry.pk]
    if earlier:
        return str(earlier[-1][1]) == "True"
    later = [values for pk, values in history if pk > entry.pk]
    if later:
        return str(later[0][0]) == "True"
    return None
