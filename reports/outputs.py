"""Statement files and their schedules: the writes (docs/reports.md, "Outputs").

- `statement_template_save`: a client's layout (or the firm's default).
- `statement_output_request`: a PDF or XLSX of a statement (or of the
  template's package) asked for from its page: one pending row per set of
  parameters (a double click finds the first), built by a job queued on commit.
- `statement_output_build`: what the job does: draw the file from the ledger
  as it stands, keep it in the private storage under the firm
  (`private/<firm id>/statements/<uuid>.<format>`), mark the row ready (or
  failed, with the reason, for the page to show).
- `statement_output_response`: the file to a viewer whose access the caller
  has checked (a short-lived presigned link on S3), as invoice PDFs are served.
- `statement_schedules_build`: a firm's due scheduled periods: after a
  month-end (or a fiscal quarter's end) whose trial balance is in the ledger,
  the package's PDF and XLSX, once per period (a unique constraint), the PDF
  shared to the client's portal as a document when the schedule says so.
- `scheduled_outputs_mark_stale` / `statement_schedule_period_rebuild`: a
  trial balance replaced with other figures (reports.services) marks stale the
  scheduled files whose period reads it; the next run draws them again in
  place, once, and shares the PDF as a new version of the same document.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import content_disposition_header

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.models import Organization
from advisoros.tenancy.tasks import enqueue_for_organization
from clients.models import Client
from documents.models import DocumentCategory
from documents.services.documents import document_add_version, document_create
from documents.storage import storage_is_local
from documents.upload import UploadRejected
from reports.drawing import Heading, statement_pdf_render, statement_xlsx_render
from reports.models import (
    PACKAGE,
    OutputFormat,
    OutputStatus,
    ScheduleFrequency,
    StatementKind,
    StatementOutput,
    StatementSchedule,
    StatementTemplate,
    TrialBalance,
)
from reports.statements import (
    COMPARISONS,
    PERIODS,
    Statement,
    add_months,
    client_fiscal_start_month,
    ledger_dates,
    needed_dates,
    spans_for,
    statement_build,
    template_for,
)

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    OutputFormat.PDF: "application/pdf",
    OutputFormat.XLSX: "application/vnd.openxmlformats-officedocument."
    "spreadsheetml.sheet",
}
ERROR_CHARS = 500


# Templates ----------------------------------------------------------------------


def statement_template_save(
    *,
    organization: Organization,
    client: Client | None,
    title: str,
    statements: list[str],
    groups: dict[str, str],
    show_account_numbers: bool,
    show_zero_rows: bool,
    branded: bool,
    footer: str,
) -> StatementTemplate:
    """Create or replace the client's template (the firm's default with no
    client). Groups name accounts of that client only; unknown statement kinds
    and empty group names are dropped."""
    template = StatementTemplate.objects.filter(
        organization=organization, client=client
    ).first() or StatementTemplate(organization=organization, client=client)
    template.title = title.strip() or "Financial statements"
    template.statements = [k for k in statements if k in StatementKind.values]
    template.groups = (
        {str(k): v.strip()[:80] for k, v in groups.items() if v.strip()}
        if client is not None
        else {}
    )
    template.show_account_numbers = show_account_numbers
    template.show_zero_rows = show_zero_rows
    template.branded = branded
    template.footer = footer.strip()
    template.full_clean(validate_constraints=False)
    template.save()
    return template


# Outputs ------------------------------------------------------------------------


def output_storage() -> Storage:
    return StatementOutput._meta.get_field("file").storage


def output_file_name(output: StatementOutput) -> str:
    return f"private/{output.organization_id}/statements/{output.uuid}.{output.format}"


def _check_parameters(kind: str, fmt: str, period: str, compare: str) -> None:
    if kind not in (*StatementKind.values, PACKAGE):
        raise ValidationError("Choose a statement.")
    if fmt not in OutputFormat.values:
        raise ValidationError("Choose PDF or Excel.")
    if period not in PERIODS or compare not in COMPARISONS:
        raise ValidationError("Choose a period and a comparison.")


def statement_output_request(
    *,
    client: Client,
    kind: str,
    period_end: date,
    period: str,
    compare: str,
    fmt: str,
    user: User | None,
) -> tuple[StatementOutput, bool]:
    """The pending output for these parameters, made (and its job queued on
    commit) unless one is already building. Returns it and whether it is new."""
    _check_parameters(kind, fmt, period, compare)
    same = {
        "organization_id": client.organization_id,
        "client": client,
        "kind": kind,
        "period_end": period_end,
        "period": period,
        "compare": compare,
        "format": fmt,
    }
    pending = StatementOutput.objects.filter(**same, status=OutputStatus.PENDING)
    if found := pending.first():
        return found, False
    try:
        with transaction.atomic():
            output = StatementOutput.objects.create(
                **same, template=template_for(client), created_by=user
            )
    except IntegrityError:  # a second click, a moment later: the first's row
        return pending.get(), False
    enqueue_for_organization(
        "reports.tasks.statement_output_job",
        client.organization,
        output_id=output.pk,
    )
    return output, True


def output_statements(output: StatementOutput) -> list[Statement]:
    """The statements an output holds, computed from the ledger now."""
    client = output.client
    template = output.template
    kinds = (
        (template.kinds if template else StatementTemplate().kinds)
        if output.kind == PACKAGE
        else [output.kind]
    )
    snapshots = ledger_dates(client)
    start_month = client_fiscal_start_month(client)
    return [
        statement_build(
            kind=kind,
            snapshots=snapshots,
            end=output.period_end,
            period=output.period,
            compare=output.compare,
            start_month=start_month,
            template=template,
        )
        for kind in kinds
    ]


def output_render(output: StatementOutput) -> bytes:
    template = output.template
    heading = Heading(
        organization=Organization.objects.get(pk=output.organization_id),
        client=output.client,
        title=template.title if template else "Financial statements",
        branded=template.branded if template else True,
        footer=template.footer if template else "",
    )
    reports = output_statements(output)
    if output.format == OutputFormat.PDF:
        return statement_pdf_render(heading, reports)
    return statement_xlsx_render(heading, reports)


def failure_reason(exc: Exception) -> str:
    """What the page says of a build that failed: a ValidationError's own words
    (written for people), else a plain sentence. The exception's text can name a
    path or a host on the server; it goes to the log with the traceback only."""
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)[:ERROR_CHARS]
    return "An unexpected error stopped it (logged for the administrator); try again."


def statement_output_build(*, output: StatementOutput) -> StatementOutput:
    """Draw and keep the output's file; ready, or failed with the reason. A
    second run finds it done. Earlier files of the same parameters asked for
    from the page are removed once this one is ready: the newest is the one."""
    if output.status != OutputStatus.PENDING:
        return output
    storage = output_storage()
    name, error = "", ""
    try:
        data = output_render(output)
        name = storage.save(output_file_name(output), ContentFile(data), max_length=300)
    except Exception as exc:
        # Failed, not retried: the page shows why and its button builds again
        # (a retry would keep the page saying "building" for minutes). The
        # traceback goes to the log.
        logger.exception("Statement output %s failed", output.uuid)
        error = failure_reason(exc)
    with transaction.atomic():
        # Two runs of the job (a retry while the first still draws) both reach
        # here: the row's lock lets the first say how it went; the second
        # changes nothing and keeps nothing, not even its file.
        current = (
            StatementOutput.objects.select_for_update().only("status").get(pk=output.pk)
        )
        if current.status != OutputStatus.PENDING:
            if name:
                storage.delete(name)  # no row names it
            output.refresh_from_db()
            return output
        output.finished_at = timezone.now()
        if error:
            output.status = OutputStatus.FAILED
            output.error = error
            output.save(update_fields=["status", "error", "finished_at", "updated_at"])
            return output
        output.file.name = name
        output.status = OutputStatus.READY
        output.save(update_fields=["file", "status", "finished_at", "updated_at"])
        if output.schedule_id is None:
            _remove_older(output)
    return output


def _remove_older(output: StatementOutput) -> None:
    older = StatementOutput.objects.filter(
        organization_id=output.organization_id,
        client_id=output.client_id,
        kind=output.kind,
        period_end=output.period_end,
        period=output.period,
        compare=output.compare,
        format=output.format,
        schedule__isnull=True,
        created_at__lt=output.created_at,
    ).exclude(status=OutputStatus.PENDING)
    names = [name for name in older.values_list("file", flat=True) if name]
    older.delete()
    storage = output_storage()
    for name in names:
        transaction.on_commit(lambda name=name: storage.delete(name))


def statement_output_response(
    request: HttpRequest, output: StatementOutput
) -> HttpResponse:
    """The ready output's file to a viewer whose access the caller has checked:
    the stored file, or a short-lived presigned link when the storage is S3.

    Writes STATEMENT_DOWNLOADED (who took which client's figures, for which
    period) with the request's address, as a document's download writes
    DOCUMENT_DOWNLOADED (documents.storage.document_download_response). Raises
    FileNotFoundError, before any audit, when the stored file is gone."""
    filename = output.filename
    content_type = CONTENT_TYPES[output.format]
    storage = output_storage()
    response: HttpResponse
    if storage_is_local(storage):
        response = FileResponse(
            storage.open(output.file.name, "rb"),  # FileNotFoundError before audit
            as_attachment=True,
            filename=filename,
            content_type=content_type,
        )
    else:
        response = HttpResponseRedirect(
            storage.url(
                output.file.name,
                parameters={
                    "ResponseContentDisposition": content_disposition_header(
                        True, filename
                    ),
                    "ResponseContentType": content_type,
                    "ResponseCacheControl": "private, no-store",
                },
            )
        )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    audit_event_record(
        action=AuditAction.STATEMENT_DOWNLOADED,
        organizations=[output.organization_id],
        actor=request.user,
        target=f"{filename} ({output.client.display_name})",
        request=request,
        detail={
            "output": str(output.uuid),
            "client": str(output.client.uuid),
            "kind": output.kind,
            "format": output.format,
            "period_end": output.period_end.isoformat(),
            "period": output.period,
            "compare": output.compare,
            "scheduled": output.schedule_id is not None,
        },
    )
    return response


# Schedules ----------------------------------------------------------------------


def statement_schedule_save(
    *,
    client: Client,
    frequency: str,
    share_to_portal: bool,
    is_active: bool,
    today: date,
    user: User | None,
) -> StatementSchedule:
    """Create or change the client's schedule. A new one starts with the
    month-end just past (the month closing now): earlier months are left
    alone, so switching it on never floods the portal with old statements."""
    schedule = StatementSchedule.objects.filter(
        organization_id=client.organization_id, client=client
    ).first() or StatementSchedule(
        organization_id=client.organization_id,
        client=client,
        first_period_end=add_months(today, -1),
        created_by=user,
    )
    schedule.frequency = frequency
    schedule.share_to_portal = share_to_portal
    schedule.is_active = is_active
    schedule.full_clean(validate_constraints=False)
    schedule.save()
    return schedule


def period_is_due(schedule: StatementSchedule, period_end: date) -> bool:
    """Monthly: every month-end; quarterly: the ends of the client's fiscal
    quarters (its fiscal year from the month after its year end)."""
    if schedule.frequency == ScheduleFrequency.MONTHLY:
        return True
    start = client_fiscal_start_month(schedule.client)
    return (period_end.month - start + 1) % 3 == 0


def due_periods(
    schedule: StatementSchedule, snapshot_dates: set[date], today: date
) -> list[date]:
    """The month-ends from the schedule's first one to the last closed month
    that are due, have their trial balance, and were not built yet (the
    caller's unique constraint says the last)."""
    last_closed = add_months(today, -1)
    due, day = [], schedule.first_period_end
    while day <= last_closed:
        if day in snapshot_dates and period_is_due(schedule, day):
            due.append(day)
        day = add_months(day, 1)
    return due


@dataclass
class PeriodResult:
    outputs: list[StatementOutput]
    shared: bool


def statement_schedule_period_build(
    *, schedule: StatementSchedule, period_end: date
) -> PeriodResult | None:
    """The schedule's package for one period: PDF and XLSX built and kept, the
    PDF shared to the portal when asked. All in one transaction whose first
    write claims the period (unique per schedule, period and format): a second
    run, or one racing it, finds it taken and does nothing (None)."""
    client = schedule.client
    template = template_for(client)
    period = "quarter" if schedule.frequency == ScheduleFrequency.QUARTERLY else "month"
    try:
        with transaction.atomic():
            outputs = [
                StatementOutput.objects.create(
                    organization_id=schedule.organization_id,
                    client=client,
                    kind=PACKAGE,
                    period_end=period_end,
                    period=period,
                    compare="both",
                    template=template,
                    format=fmt,
                    schedule=schedule,
                    created_by=schedule.created_by,
                )
                for fmt in (OutputFormat.PDF, OutputFormat.XLSX)
            ]
            for output in outputs:
                statement_output_build(output=output)
            shared = False
            pdf = outputs[0]
            if schedule.share_to_portal and pdf.status == OutputStatus.READY:
                shared = _share(pdf, template)
            return PeriodResult(outputs, shared)
    except IntegrityError:
        return None


def _share(output: StatementOutput, template: StatementTemplate | None) -> bool:
    """The PDF as a document the client sees among shared documents."""
    title = template.title if template else "Financial statements"
    when = output.period_end
    label = f"{when:%B} {when.year}" if output.period == "month" else f"{when:%b %Y}"
    if output.period == "quarter":
        label = f"quarter ending {label}"
    with output_storage().open(output.file.name, "rb") as handle:
        data = handle.read()
    filename = f"{title} {when:%Y-%m}.pdf"
    try:
        if output.document_id is not None:
            # Rebuilt: the client finds the same document with a new version
            # (its title and visibility as the firm left them), not a second one.
            document = document_add_version(
                document=output.document,
                file=ContentFile(data),
                filename=filename,
                uploaded_by=output.created_by,
            )
        else:
            document = document_create(
                client=output.client,
                file=ContentFile(data),
                filename=filename,
                uploaded_by=output.created_by,
                title=f"{title}, {label}",
                category=DocumentCategory.FINANCIAL_STATEMENT,
                tax_year=when.year,
                visible_to_client=True,
            )
    except (UploadRejected, ValidationError) as exc:
        message = getattr(exc, "staff_message", None) or getattr(
            exc, "message", str(exc)
        )
        output.error = f"Built, but not shared: {message}"[:ERROR_CHARS]
        output.save(update_fields=["error", "updated_at"])
        return False
    output.document = document
    output.save(update_fields=["document", "updated_at"])
    return True


# Rebuilds ------------------------------------------------------------------------


def scheduled_outputs_mark_stale(*, client: Client, period_end: date) -> int:
    """After the client's trial balance at `period_end` was replaced with other
    figures: mark stale the scheduled files whose own period reads it, for
    their schedule to build again (`statement_schedules_build`). Returns how
    many.

    That is the period ending then, and the one after it: a month's profit and
    loss is YTD(its end) - YTD(the month-end before), and its cash flow starts
    from the balances of the month-end before. A later period that shows it in
    a comparison column only is left as it was shared (decisions-revrep.md)."""
    start_month = client_fiscal_start_month(client)
    marked = 0
    for output in StatementOutput.objects.filter(
        organization_id=client.organization_id,
        client=client,
        schedule__isnull=False,
        stale=False,
        period_end__gte=period_end,
        period_end__lte=add_months(period_end, 3),  # a quarter after, at most
    ).only("id", "organization_id", "period_end", "period", "stale"):
        # The cash flow reads every date any statement of the period reads.
        spans = spans_for(output.period_end, output.period, "none", start_month)
        if period_end in needed_dates(spans, "cash_flow", start_month):
            output.stale = True
            output.save(update_fields=["stale", "updated_at"])
            marked += 1
    return marked


def _output_redraw(output: StatementOutput) -> None:
    """Draw a built file again from the ledger as it stands now, in place: its
    row (and its download link) stays, the new file replaces the old one."""
    storage = output_storage()
    old = output.file.name
    now = timezone.now()
    try:
        data = output_render(output)
        name = storage.save(output_file_name(output), ContentFile(data), max_length=300)
    except Exception as exc:
        logger.exception("Statement output %s failed to rebuild", output.uuid)
        output.status = OutputStatus.FAILED
        output.error = failure_reason(exc)
    else:
        output.file.name = name
        output.status = OutputStatus.READY
        output.error = ""
        if old and old != name:
            transaction.on_commit(lambda: storage.delete(old))
    output.stale = False
    output.finished_at = output.rebuilt_at = now
    output.save(
        update_fields=[
            "file",
            "status",
            "error",
            "stale",
            "finished_at",
            "rebuilt_at",
            "template",
            "updated_at",
        ]
    )


def statement_schedule_period_rebuild(
    *, schedule: StatementSchedule, period_end: date
) -> PeriodResult | None:
    """The schedule's stale files of one period drawn again, and the PDF
    shared again as a new version of the document it was shared as. The rows
    are claimed under their lock (a run racing this one skips them, and finds
    them no longer stale after): each staleness is rebuilt once. None when
    there was nothing to claim."""
    template = template_for(schedule.client)
    with transaction.atomic():
        outputs = list(
            StatementOutput.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                organization_id=schedule.organization_id,
                schedule=schedule,
                period_end=period_end,
                stale=True,
            )
            .select_related("client", "document")
            .order_by("format")
        )
        if not outputs:
            return None
        for output in outputs:
            output.template = template  # today's layout, as a new period gets
            _output_redraw(output)
        shared = False
        pdf = next((o for o in outputs if o.format == OutputFormat.PDF), None)
        if pdf and schedule.share_to_portal and pdf.status == OutputStatus.READY:
            shared = _share(pdf, template)
        return PeriodResult(outputs, shared)


def statement_schedules_build(*, organization: Organization, today: date) -> int:
    """Every active schedule's due periods in the firm, and the periods whose
    files went stale; returns how many periods were built or rebuilt now (0
    when all were done before)."""
    schedules = list(
        StatementSchedule.objects.filter(organization=organization, is_active=True)
        .select_related("client", "created_by")
        .order_by("id")
    )
    if not schedules:
        return 0
    dates: dict[int, set[date]] = {}
    for client_id, day in TrialBalance.objects.filter(
        organization=organization, client_id__in=[s.client_id for s in schedules]
    ).values_list("client_id", "period_end"):
        dates.setdefault(client_id, set()).add(day)
    done = set(
        StatementOutput.objects.filter(
            organization=organization,
            schedule__in=schedules,
            format=OutputFormat.PDF,
        ).values_list("schedule_id", "period_end")
    )
    built = 0
    for schedule in schedules:
        for day in due_periods(schedule, dates.get(schedule.client_id, set()), today):
            if (schedule.pk, day) in done:
                continue
            if statement_schedule_period_build(schedule=schedule, period_end=day):
                built += 1
    by_id = {schedule.pk: schedule for schedule in schedules}
    stale = (
        StatementOutput.objects.filter(
            organization=organization, schedule__in=schedules, stale=True
        )
        .values_list("schedule_id", "period_end")
        .distinct()
        .order_by("schedule_id", "period_end")
    )
    for schedule_id, day in list(stale):
        schedule = by_id[schedule_id]
        if statement_schedule_period_rebuild(schedule=schedule, period_end=day):
            built += 1
    return built
