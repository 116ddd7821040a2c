"""CSV import of clients and their contacts: check every row first, then import all
of them or none.

An upload is decoded (`import_decode`), parsed (`import_parse`) and checked
(`import_validate`) without writing a client; `client_import_create` keeps the
text and the row messages in a ClientImport for the preview. `client_import_run`
checks again under a row lock and inserts everything in one transaction.

Rows are checked by the rules client_create and contact_create apply (tax id
format, free client codes, active members, the model's field checks, contact
emails unique in the firm), for the whole file at once: a fixed number of
queries whatever its length. The import then writes in bulk (see `_import_rows`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record, log_created
from advisoros.http import client_ip
from advisoros.jobs import progress_clear, progress_report
from advisoros.tenancy.models import Membership, Organization
from advisoros.tenancy.plans import CLIENTS, plan_limit_check
from advisoros.tenancy.tasks import enqueue_for_organization
from clients.models import (
    Client,
    ClientCodes,
    ClientContact,
    ClientImport,
    ClientStatus,
    ClientTag,
    Contact,
    ContactRole,
    EntityType,
    ImportStatus,
    RiskLevel,
    Tag,
)
from clients.services.search import fold, search_index_clients
from clients.services.tags import tag_find_or_create
from clients.validators import normalize_tax_id

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
PREVIEW_ROWS = 200
BATCH = 1000
# Enough to fix a file by; the count of rows with errors is always exact.
MAX_STORED_MESSAGES = 2_000


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    example: str = ""
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("display_name", "The name shown everywhere.", "Bright Smile Dental", True),
    Column(
        "client_code",
        "Short code unique in the firm; suggested from the name when empty.",
        "BRIGHT",
    ),
    Column(
        "legal_name", "Name on tax returns, if different.", "Bright Smile Dental PC"
    ),
    Column(
        "entity_type",
        "Individual, sole proprietorship, LLC, S corporation, C corporation, "
        "partnership, nonprofit or trust / estate (label or value, e.g. s_corp); "
        "individual when empty.",
        "S corporation",
    ),
    Column(
        "status",
        "Prospect, active, inactive or archived; active when empty.",
        "active",
    ),
    Column("risk_level", "Low, medium or high; low when empty.", "low"),
    Column("industry", "Free text.", "Dental practice"),
    Column("fiscal_year_end", "MM/DD; 12/31 when empty.", "12/31"),
    Column(
        "tax_id",
        "SSN or ITIN as 123-45-6789, EIN as 12-3456789. Stored encrypted.",
        "12-3456789",
    ),
    Column("email", "The client's main email.", "office@brightsmile.example"),
    Column("phone", "", "(555) 010-2030"),
    Column("website", "https:// is added when missing.", "brightsmile.example"),
    Column("address_line1", "", "100 Main Street"),
    Column("address_line2", "", "Suite 200"),
    Column("city", "", "Springfield"),
    Column("region", "State or region.", "IL"),
    Column("postal_code", "", "62701"),
    Column("country", "Two-letter code; US when empty.", "US"),
    Column("partner_email", "Email of an active member of the firm."),
    Column("manager_email", "Email of an active member of the firm."),
    Column("staff_email", "Email of an active member of the firm."),
    Column(
        "tags",
        "Separated by semicolons; tags the firm does not have yet are created.",
        "VIP; Payroll client",
    ),
    Column("contact_first_name", "Needed for a new contact.", "Dana"),
    Column("contact_last_name", "", "Lee"),
    Column(
        "contact_email",
        "When a contact of the firm already has this email, the client is linked "
        "to that contact instead of creating a new one.",
        "dana@brightsmile.example",
    ),
    Column("contact_phone", "", "(555) 010-2031"),
    Column(
        "contact_role",
        "Primary, billing, spouse, officer or other; primary when empty.",
        "officer",
    ),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
CONTACT_COLUMNS = tuple(n for n in COLUMN_NAMES if n.startswith("contact_"))
ASSIGNEE_COLUMNS = {
    "partner_email": "partner",
    "manager_email": "manager",
    "staff_email": "staff",
}
TEXT_FIELDS = (
    "legal_name",
    "industry",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
)


def import_template_csv() -> str:
    """The downloadable template: the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerow(c.example for c in COLUMNS)
    return out.getvalue()


# Decoding -----------------------------------------------------------------------

_SIGNATURES = (
    (b"%PDF", "This is a PDF file, not a CSV file."),
    (b"PK\x03\x04", "This is an Excel (.xlsx) or ZIP file, not a CSV file."),
    (b"\xd0\xcf\x11\xe0", "This is an old Excel (.xls) or Word file, not a CSV file."),
    (b"\x89PNG", "This is an image, not a CSV file."),
    (b"\xff\xd8\xff", "This is an image, not a CSV file."),
    (b"GIF8", "This is an image, not a CSV file."),
    (b"\xff\xfe", "This file is UTF-16 text."),
    (b"\xfe\xff", "This file is UTF-16 text."),
)
_SAVE_AS_CSV = "In Excel choose File › Save As › “CSV UTF-8 (comma delimited)”."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def import_decode(data: bytes) -> str:
    """The upload as text: UTF-8 (with or without a BOM), else Windows-1252.

    Anything that is not text (a renamed PDF, workbook or image) is refused.
    """
    if not data.strip():
        raise ValidationError("The file is empty.", code="empty")
    for signature, message in _SIGNATURES:
        if data.startswith(signature):
            raise ValidationError(f"{message} {_SAVE_AS_CSV}", code="not_text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = None
    if text is None or _CONTROL.search(text):
        raise ValidationError(
            f"This file is not a text CSV file. {_SAVE_AS_CSV}", code="not_text"
        )
    return text


# Parsing ------------------------------------------------------------------------


@dataclass
class ParsedFile:
    columns: list[str]  # the known columns present, in the file's order
    ignored: list[str]  # header cells we do not know
    rows: list[ImportRow]


@dataclass
class ImportRow:
    number: int  # as a spreadsheet numbers it: the header is row 1
    values: dict[str, str]
    messages: list[dict] = field(default_factory=list)
    client_data: dict = field(default_factory=dict)
    tag_names: list[str] = field(default_factory=list)
    contact_data: dict | None = None
    contact_role: str = ContactRole.PRIMARY
    existing_contact_id: int | None = None

    def error(self, column: str, message: str) -> None:
        self.messages.append(
            {"row": self.number, "column": column, "message": message, "level": "error"}
        )

    def note(self, column: str, message: str) -> None:
        self.messages.append(
            {"row": self.number, "column": column, "message": message, "level": "info"}
        )

    @property
    def errors(self) -> list[dict]:
        return [m for m in self.messages if m["level"] == "error"]

    @property
    def contact_email(self) -> str:
        return (self.contact_data or {}).get("email", "").lower()


def _header_key(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.replace("\ufeff", "").strip().lower())


def import_parse(text: str, *, limit: int | None = None) -> ParsedFile:
    """Rows of the file with their known columns; `limit` stops after that many rows.

    A file we cannot read as a table of clients raises ValidationError.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[ImportRow] = []
    try:
        header = next(reader, None)
        if header is None or not any(c.strip() for c in header):
            raise ValidationError("The file is empty.", code="empty")
        keys = [_header_key(c) for c in header]
        if "display_name" not in keys:
            raise ValidationError(_missing_name_message(header), code="no_name")
        seen: set[str] = set()
        for key in keys:
            if key in COLUMN_NAMES and key in seen:
                raise ValidationError(
                    f"The column “{key}” appears twice in the first row.",
                    code="duplicate_column",
                )
            seen.add(key)
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue  # spreadsheets export empty lines at the end
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    f"The file has more than {MAX_ROWS:,} clients: split it into "
                    "smaller files.",
                    code="too_many_rows",
                )
            row = ImportRow(
                number=number,
                values={
                    key: cell.strip()
                    for key, cell in zip(keys, record, strict=False)
                    if key in COLUMN_NAMES
                },
            )
            extra = record[len(keys) :]
            if any(cell.strip() for cell in extra):
                row.error(
                    "",
                    f"This row has {len(record)} values but the first row names "
                    f"{len(keys)} columns: is a comma missing its quotes?",
                )
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        raise ValidationError(
            f"The file is not valid CSV near line {reader.line_num} ({exc}): "
            "a quote is probably not closed.",
            code="malformed",
        ) from exc
    if not rows:
        raise ValidationError(
            "The file has a header row but no clients.", code="no_rows"
        )
    return ParsedFile(
        columns=[k for k in keys if k in COLUMN_NAMES],
        ignored=[
            c.strip()
            for c, k in zip(header, keys, strict=True)
            if k and k not in COLUMN_NAMES
        ],
        rows=rows,
    )


def _missing_name_message(header: list[str]) -> str:
    if len(header) == 1:
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if delimiter in header[0]:
                return (
                    f"The file separates its columns with {name}, not commas. "
                    f"{_SAVE_AS_CSV}"
                )
    return (
        "The first row must name the columns, including display_name. "
        "Download the template to see them."
    )


# Validation ---------------------------------------------------------------------


def _choice_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _choices(choices, aliases: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    table = {}
    for value, label in choices:
        table[_choice_key(value)] = value
        table[_choice_key(label)] = value
    for alias, value in aliases:
        table[_choice_key(alias)] = value
    return table


ENTITY_TYPES = _choices(
    EntityType.choices,
    [
        ("sole proprietor", EntityType.SOLE_PROPRIETORSHIP),
        ("sole prop", EntityType.SOLE_PROPRIETORSHIP),
        ("trust", EntityType.TRUST_ESTATE),
        ("estate", EntityType.TRUST_ESTATE),
        ("s corp", EntityType.S_CORP),
        ("c corp", EntityType.C_CORP),
    ],
)
STATUSES = _choices(ClientStatus.choices)
RISK_LEVELS = _choices(RiskLevel.choices)
CONTACT_ROLES = _choices(ContactRole.choices)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FYE = re.compile(r"(\d{1,2})\s*[/-]\s*(\d{1,2})")
# Model fields the file names differently.
_FIELD_COLUMNS = {
    "fiscal_year_end_month": "fiscal_year_end",
    "fiscal_year_end_day": "fiscal_year_end",
    "partner": "partner_email",
    "manager": "manager_email",
    "staff": "staff_email",
    "__all__": "",
}


def _choice(row: ImportRow, column: str, table: dict, choices, default: str) -> str:
    raw = row.values.get(column, "")
    if not raw:
        return default
    value = table.get(_choice_key(raw))
    if value is None:
        allowed = ", ".join(label.lower() for _, label in choices)
        row.error(column, f"Unknown value “{raw}”: use one of {allowed}.")
        return default
    return value


def _fiscal_year_end(row: ImportRow) -> tuple[int, int]:
    raw = row.values.get("fiscal_year_end", "")
    if not raw:
        return 12, 31
    match = _FYE.fullmatch(raw)
    month, day = (int(match[1]), int(match[2])) if match else (0, 0)
    if not (1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]):
        row.error("fiscal_year_end", "Write the fiscal year end as MM/DD, e.g. 12/31.")
        return 12, 31
    return month, day


def _client_data(row: ImportRow, organization: Organization, members: dict) -> dict:
    v = row.values
    entity_type = _choice(
        row, "entity_type", ENTITY_TYPES, EntityType.choices, EntityType.INDIVIDUAL
    )
    status = _choice(row, "status", STATUSES, ClientStatus.choices, ClientStatus.ACTIVE)
    month, day = _fiscal_year_end(row)
    data = {
        "display_name": v.get("display_name", ""),
        "entity_type": entity_type,
        "status": status,
        "risk_level": _choice(
            row, "risk_level", RISK_LEVELS, RiskLevel.choices, RiskLevel.LOW
        ),
        "fiscal_year_end_month": month,
        "fiscal_year_end_day": day,
        **{name: v.get(name, "") for name in TEXT_FIELDS},
    }
    if not data["display_name"]:
        row.error("display_name", "A client needs a display name.")
    if v.get("client_code"):
        data["client_code"] = v["client_code"].upper()
    if status == ClientStatus.ARCHIVED:
        data["archived_at"] = timezone.now()
    try:
        data["tax_id"] = normalize_tax_id(v.get("tax_id", ""), entity_type)
    except ValidationError as exc:
        row.error("tax_id", " ".join(exc.messages))
    website = v.get("website", "")
    if website and "://" not in website:
        website = f"https://{website}"
    data["website"] = website
    if v.get("country"):
        data["country"] = v["country"].upper()
        if not re.fullmatch(r"[A-Z]{2}", data["country"]):
            row.error("country", "Use a two-letter country code, e.g. US or CA.")
    for column, name in ASSIGNEE_COLUMNS.items():
        email = v.get(column, "").lower()
        if email:
            if email in members:
                data[f"{name}_id"] = members[email]
            else:
                row.error(column, f"{email} is not an active member of the firm.")
    # The model's own field checks (lengths, email, URL), as client_create runs them;
    # the firm's codes and members are checked for the whole file at once.
    client = Client(organization=organization, **data)
    # The fields it derives (the code is suggested at import, against the file).
    client.derive_fields(ClientCodes())
    exclude = ["organization", "tags", "partner", "manager", "staff", "tax_id"]
    if "client_code" not in data:
        exclude.append("client_code")  # suggested at import
    _model_errors(row, client, exclude, prefix="")
    return data


def _model_errors(row: ImportRow, obj, exclude: list[str], prefix: str) -> None:
    try:
        obj.full_clean(
            exclude=exclude, validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            column = _FIELD_COLUMNS.get(name, f"{prefix}{name}")
            if column in {m["column"] for m in row.errors}:
                continue  # already explained in our own words
            for message in messages:
                row.error(column, message)


def _tag_names(row: ImportRow) -> list[str]:
    names: dict[str, str] = {}
    for name in row.values.get("tags", "").split(";"):
        name = " ".join(name.split())
        if not name:
            continue
        if len(name) > 50:
            row.error("tags", f"The tag “{name[:50]}…” is longer than 50 characters.")
        names.setdefault(name.lower(), name)
    return list(names.values())


def _contact(row: ImportRow) -> None:
    v = row.values
    if not any(v.get(c) for c in CONTACT_COLUMNS):
        return
    row.contact_role = _choice(
        row, "contact_role", CONTACT_ROLES, ContactRole.choices, ContactRole.PRIMARY
    )
    row.contact_data = {
        "first_name": v.get("contact_first_name", ""),
        "last_name": v.get("contact_last_name", ""),
        "email": v.get("contact_email", ""),
        "phone": v.get("contact_phone", ""),
    }


def import_validate(
    *, organization: Organization, rows: list[ImportRow]
) -> list[ImportRow]:
    """Check every row by the services' rules; messages are added to the rows."""
    codes = {
        r.values["client_code"].lower() for r in rows if r.values.get("client_code")
    }
    taken_codes = (
        set(
            Client.objects.annotate(code=Lower("client_code"))
            .filter(organization=organization, code__in=codes)
            .values_list("code", flat=True)
        )
        if codes
        else set()
    )
    member_emails = {
        r.values[c].lower() for r in rows for c in ASSIGNEE_COLUMNS if r.values.get(c)
    }
    members = (
        dict(
            Membership.objects.annotate(email=Lower("user__email"))
            .filter(organization=organization, is_active=True, email__in=member_emails)
            .values_list("email", "user_id")
        )
        if member_emails
        else {}
    )
    first_row_of_code: dict[str, int] = {}
    for row in rows:
        row.client_data = _client_data(row, organization, members)
        row.tag_names = _tag_names(row)
        _contact(row)
        code = row.client_data.get("client_code", "").lower()
        if code in taken_codes:
            row.error("client_code", "Another client already has this code.")
        elif code and code in first_row_of_code:
            row.error(
                "client_code",
                f"Row {first_row_of_code[code]} of the file has this code too.",
            )
        elif code:
            first_row_of_code[code] = row.number
    _check_contacts(organization, rows)
    _check_plan(organization, rows)
    return rows


def _check_plan(organization: Organization, rows: list[ImportRow]) -> None:
    """The whole file against the firm's plan (advisoros.tenancy.plans): a file
    that would take the firm over its clients limit is refused as a whole, a
    message of the file (row 0), before anything is written."""
    adding = sum(
        1 for r in rows if r.client_data.get("status") != ClientStatus.ARCHIVED
    )
    if not adding:
        return
    try:
        plan_limit_check(organization, CLIENTS, adding=adding)
    except ValidationError as exc:
        rows[0].messages.append(
            {
                "row": 0,
                "column": "",
                "message": " ".join(exc.messages),
                "level": "error",
            }
        )


def _check_contacts(organization: Organization, rows: list[ImportRow]) -> None:
    """A known email links the firm's contact; a new person is checked like a form."""
    emails = {r.contact_email for r in rows if r.contact_email}
    existing = (
        {
            c.email_lower: c
            for c in Contact.objects.annotate(email_lower=Lower("email"))
            .filter(organization=organization, email_lower__in=emails)
            .exclude(email="")
            .only("first_name", "last_name", "email")
        }
        if emails
        else {}
    )
    first_row_of_email: dict[str, int] = {}
    for row in rows:
        if row.contact_data is None:
            continue
        email = row.contact_email
        if email in existing:
            contact = existing[email]
            row.existing_contact_id = contact.pk
            row.note(
                "contact_email",
                f"Links the existing contact {contact.full_name} instead of "
                "creating one.",
            )
            continue
        if email in first_row_of_email:
            row.note(
                "contact_email",
                f"Links the contact created by row {first_row_of_email[email]}.",
            )
            continue
        if email:
            first_row_of_email[email] = row.number
        if not row.contact_data["first_name"]:
            row.error("contact_first_name", "A new contact needs a first name.")
        contact = Contact(organization=organization, **row.contact_data)
        _model_errors(row, contact, ["organization", "clients"], prefix="contact_")


def import_messages(rows: list[ImportRow]) -> tuple[list[dict], int]:
    """Messages to keep (capped), and the exact number of rows with errors."""
    messages = [m for r in rows for m in r.messages][:MAX_STORED_MESSAGES]
    return messages, sum(1 for r in rows if r.errors)


# Writing ------------------------------------------------------------------------


def client_import_create(
    *, organization: Organization, user: User, filename: str, text: str
) -> ClientImport:
    """Parse and check an upload; keep it for the preview. Writes no client.

    A file that cannot be read as clients raises ValidationError and is not kept.
    """
    parsed = import_parse(text)
    rows = import_validate(organization=organization, rows=parsed.rows)
    messages, error_rows = import_messages(rows)
    return ClientImport.objects.create(
        organization=organization,
        created_by=user,
        filename=filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255],
        content=text,
        row_count=len(rows),
        error_count=error_rows,
        errors=messages,
    )


@dataclass
class ImportOutcome:
    status: str  # "imported", "already_imported" or "invalid"
    clients: int = 0
    contacts: int = 0
    error_rows: int = 0


def client_import_queue(
    *, client_import: ClientImport, user: User, request=None
) -> str:
    """Hand a checked file to a background job ("queued"), once.

    A large file takes a minute or more: the page shows the job's progress
    instead of holding a request open. A double submit finds the import
    already queued ("running") or done ("already_imported").
    """
    with transaction.atomic():
        locked = ClientImport.objects.select_for_update().get(pk=client_import.pk)
        if locked.status == ImportStatus.IMPORTED:
            return "already_imported"
        if locked.status == ImportStatus.QUEUED:
            return "running"
        if locked.error_count:
            return "invalid"
        locked.status = ImportStatus.QUEUED
        locked.save(update_fields=["status", "updated_at"])
        progress_report(
            str(locked.uuid), done=0, total=locked.row_count, stage="Waiting to start"
        )
        enqueue_for_organization(
            "clients.tasks.client_import_job",
            locked.organization,
            import_id=locked.pk,
            user_id=user.pk,
            remote_addr=client_ip(request) if request else None,
        )
    return "queued"


def client_import_fail(*, client_import: ClientImport) -> None:
    """Back to the preview after an unexpected error: nothing was imported."""
    ClientImport.objects.filter(pk=client_import.pk, status=ImportStatus.QUEUED).update(
        status=ImportStatus.PREVIEWED,
        errors=[
            {
                "row": 0,
                "column": "",
                "level": "error",
                "message": "The import stopped on an unexpected error and nothing was "
                "imported. Upload the file again; if it happens again, tell your administrator.",
            }
        ],
        error_count=1,
    )
    progress_clear(str(client_import.uuid))


def client_import_run(
    *, client_import: ClientImport, user: User | None, remote_addr: str | None = None
) -> ImportOutcome:
    """Import every row or none. Safe to call twice: the second call imports nothing.

    Runs in the background job (`client_import_queue`); a file that turns out
    invalid meanwhile goes back to the preview with its errors.
    """
    with transaction.atomic():
        # The row lock makes a second run wait here, then see "imported".
        locked = ClientImport.objects.select_for_update().get(pk=client_import.pk)
        if locked.status not in (ImportStatus.PREVIEWED, ImportStatus.QUEUED):
            return ImportOutcome(status="already_imported")
        job_key = str(locked.uuid)
        progress_report(job_key, done=0, total=locked.row_count, stage="Checking rows")
        organization = locked.organization
        try:
            rows = import_validate(
                organization=organization, rows=import_parse(locked.content).rows
            )
        except ValidationError as exc:  # kept before a rule changed: not a table now
            rows = [ImportRow(number=1, values={})]
            rows[0].error("", " ".join(exc.messages))
        outcome = None
        if not any(r.errors for r in rows):
            try:
                with transaction.atomic():
                    outcome = _import_rows(
                        organization,
                        rows,
                        actor=user,
                        remote_addr=remote_addr,
                        job_key=job_key,
                    )
            except IntegrityError:
                # Checked a moment ago, so someone else just took a code or an email.
                rows[0].error(
                    "",
                    "Another client or contact took a code or an email of this file "
                    "while it was being imported. Nothing was imported: try again.",
                )
        messages, error_rows = import_messages(rows)
        if outcome is None:
            locked.status = ImportStatus.PREVIEWED
            locked.errors, locked.error_count = messages, error_rows
            locked.save(update_fields=["status", "errors", "error_count", "updated_at"])
            progress_clear(job_key)
            return ImportOutcome(status="invalid", error_rows=error_rows)
        locked.status = ImportStatus.IMPORTED
        locked.imported_at = timezone.now()
        locked.imported_clients = outcome.clients
        locked.imported_contacts = outcome.contacts
        locked.errors, locked.error_count = messages, 0
        # The file held whole tax ids; once imported they live encrypted on the
        # clients, so this copy is dropped.
        locked.content = ""
        locked.save()
        audit_event_record(
            action=AuditAction.CLIENTS_IMPORTED,
            organizations=[organization],
            actor=user,
            target=locked.filename,
            ip_address=remote_addr,
            detail={
                "import": str(locked.uuid),
                "clients": outcome.clients,
                "contacts": outcome.contacts,
            },
        )
    return outcome


def _import_rows(
    organization: Organization,
    rows: list[ImportRow],
    *,
    actor: User | None,
    remote_addr: str | None,
    job_key: str,
) -> ImportOutcome:
    """Insert the checked rows in batches.

    client_create and contact_create cost some 36 queries a row (about 90 ms
    here), 30 minutes for a full file; these bulk inserts do the same writes
    in a few queries per thousand rows. What the services do on each save is
    done here for the whole file: the fields they derive (sort name, code, last
    four digits), the change-log entries and the search index. The rules they
    check were checked by import_validate.
    """
    total = len(rows)
    progress_report(job_key, done=0, total=total, stage="Writing clients")
    tags = _tags_for(organization, rows)
    # Codes the file asks for are reserved before others are suggested; rows may
    # share a base (SMITH-J, SMITH-J2...).
    codes = ClientCodes.of_firm(organization.pk)
    for r in rows:
        if "client_code" in r.client_data:
            codes.reserve(r.client_data["client_code"])
    clients = []
    for row in rows:
        client = Client(organization=organization, **row.client_data)
        client.derive_fields(codes)
        clients.append(client)
    Client.objects.bulk_create(clients, batch_size=BATCH)

    client_tags = [
        ClientTag(organization=organization, client=client, tag=tags[name.lower()])
        for client, row in zip(clients, rows, strict=True)
        for name in row.tag_names
    ]
    ClientTag.objects.bulk_create(client_tags, batch_size=BATCH)

    # A row's contact: the firm's contact with that email, one made by an
    # earlier row with the same email, or a new one.
    new_contacts: list[Contact] = []
    made_by_email: dict[str, Contact] = {}
    pending: list[tuple[Client, Contact | None, int | None, str]] = []
    for client, row in zip(clients, rows, strict=True):
        if row.contact_data is None:
            continue
        contact = None
        if row.existing_contact_id is None:
            contact = made_by_email.get(row.contact_email)
            if contact is None:
                contact = Contact(organization=organization, **row.contact_data)
                new_contacts.append(contact)
                if row.contact_email:
                    made_by_email[row.contact_email] = contact
        pending.append((client, contact, row.existing_contact_id, row.contact_role))
    Contact.objects.bulk_create(new_contacts, batch_size=BATCH)
    links = [
        ClientContact(
            organization=organization,
            client=client,
            contact_id=contact.pk if contact is not None else existing_id,
            role=role,
        )
        for client, contact, existing_id, role in pending
    ]
    ClientContact.objects.bulk_create(links, batch_size=BATCH)

    # As after client_create and contact_create (client_set_tags bulk-inserts its
    # links, which are not logged either).
    for objects in (clients, new_contacts, links):
        log_created(objects, actor=actor, remote_addr=remote_addr, batch_size=BATCH)
    ids = [c.pk for c in clients]
    for start in range(0, len(ids), BATCH):
        progress_report(job_key, done=start, total=total, stage="Indexing for search")
        search_index_clients(ids[start : start + BATCH])
    progress_report(job_key, done=total, total=total, stage="Finishing")
    return ImportOutcome(
        status="imported", clients=len(clients), contacts=len(new_contacts)
    )


def _tags_for(organization: Organization, rows: list[ImportRow]) -> dict[str, Tag]:
    """The firm's tags by lower-cased name, creating the ones the file introduces."""
    wanted = {name.lower(): name for r in rows for name in r.tag_names}
    if not wanted:
        return {}
    tags = {
        t.name.lower(): t
        for t in Tag.objects.annotate(lname=Lower("name")).filter(
            organization=organization, lname__in=wanted
        )
    }
    for key, name in wanted.items():
        if key not in tags:
            tags[key] = tag_find_or_create(organization=organization, name=name)
    return tags
