"""Receiving uploads safely: stream to disk while hashing, then check what arrived.

Two ways in, one code path:

- a multipart form (the page without JavaScript): Django's multipart parser
  feeds `DocumentUploadHandler`, which views install on the request before the
  body is read (`request.upload_handlers = [handler]`);
- a raw body (the upload page's script sends each file as the request body,
  `application/octet-stream`, its name in `X-File-Name`): `receive_raw_upload`
  feeds the same handler from the request stream, without the multipart
  parser's boundary scanning (about three times faster on a 100 MB file).

Either way the file goes in chunks to a temporary file next to the storage
folder (so storing it is a rename, not a second copy), SHA-256 is computed as it
arrives, the virus scanner receives it as it arrives when the request waits for
its verdict (documents.scanning `StreamingScan`; otherwise the stored file is
scanned by a job), nothing is held in memory, and the firm's size limit stops it
as soon as it is passed. `validate_upload` then refuses what must not be kept (empty,
too large, a type that is not on the allowlist or that contradicts the file's
extension) with `UploadRejected(message)`, and deletes the temporary file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import re
import threading
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote

import magic
from django.conf import settings
from django.core.files import File
from django.core.files import temp as tempfile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    SkipFile,
    StopFutureHandlers,
)
from django.http import HttpRequest

from documents import content_checks, scanning

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024  # read and write 1 MiB at a time
SNIFF_BYTES = 64 * 1024  # libmagic looks at the start (Office files need a few KB)
MAX_NAME = 200  # characters of a sanitised file name

# Sniffed MIME type -> the extensions such content may carry.
ALLOWED: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({".pdf"}),
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg"}),
    "image/tiff": frozenset({".tif", ".tiff"}),
    "image/gif": frozenset({".gif"}),
    "image/webp": frozenset({".webp"}),
    "image/heic": frozenset({".heic", ".heif"}),
    "image/heif": frozenset({".heic", ".heif"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        frozenset({".docx"})
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        frozenset({".xlsx"})
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        frozenset({".pptx"})
    ),
    "application/msword": frozenset({".doc"}),
    "application/vnd.ms-excel": frozenset({".xls"}),
    # An OLE compound file libmagic could not name further (older Word/Excel
    # writers). Harmless as a .doc or .xls: nothing opens it as a program.
    "application/x-ole-storage": frozenset({".doc", ".xls"}),
    "application/CDFV2": frozenset({".doc", ".xls"}),
    "text/csv": frozenset({".csv", ".txt"}),
    "application/csv": frozenset({".csv"}),
    "text/plain": frozenset({".txt", ".csv"}),
}
# Office Open XML files are ZIP archives; libmagic names them only when the
# writer put the parts in Word's order. Otherwise we look inside the archive.
OOXML = {
    ".docx": (
        "word/",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ".xlsx": (
        "xl/",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ".pptx": (
        "ppt/",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}
# What people call a type, for messages ("its content is a Windows program").
KIND = {
    "application/pdf": "a PDF",
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/tiff": "a TIFF image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
    "image/heic": "a HEIC image",
    "image/heif": "a HEIF image",
    "application/msword": "a Word document",
    "application/vnd.ms-excel": "an Excel workbook",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "a Word document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "an Excel workbook"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "a PowerPoint presentation"
    ),
    "text/csv": "CSV text",
    "text/plain": "plain text",
    "application/x-dosexec": "a Windows program",
    "application/x-executable": "a program (executable)",
    "application/x-pie-executable": "a program (executable)",
    "application/x-sharedlib": "a program library",
    "application/x-mach-binary": "a macOS program",
    "application/x-msi": "a Windows installer",
    "text/x-shellscript": "a shell script",
    "text/html": "a web page (HTML)",
    "image/svg+xml": "an SVG image, which can carry scripts",
    "application/zip": "a ZIP archive",
    "application/octet-stream": "unrecognised binary data",
}
ACCEPTED_TEXT = (
    "Accepted: PDF; PNG, JPEG, TIFF, GIF, WebP and HEIC images; Word, Excel and"
    " PowerPoint documents; CSV and plain text."
)
# The extension a download gets when its name has none.
CANONICAL_EXTENSION = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    **{mime: ext for ext, (_, mime) in OOXML.items()},
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "text/csv": ".csv",
    "application/csv": ".csv",
    "text/plain": ".txt",
}

OOXML_TYPES = frozenset(mime for _, mime in OOXML.values())

_SEPARATORS = re.compile(r"[\\/]")
_SPACES = re.compile(r"\s+")


class UploadRejected(Exception):
    """What arrived cannot be kept; `message` says why, for the person uploading."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UploadQuarantined(UploadRejected):
    """The virus scanner found something: the file is kept in quarantine (never
    served). `message` is for anyone (no signature name: the client portal
    shows it); `staff_message` names what was found, for the firm's members."""

    def __init__(self, name: str, signature: str) -> None:
        super().__init__(
            f"We could not accept {name}: it did not pass our security check."
            " Please check the file with your antivirus, or send it another way."
        )
        self.signature = signature
        self.staff_message = (
            f"{name} was quarantined: the virus scanner found {signature}. It will"
            " never be shown or downloaded; the firm's owners and admins have been"
            " alerted."
        )


class UploadOverPlan(UploadRejected):
    """The firm's plan has no room for the file (advisoros.tenancy.plans):
    nothing is stored. `message` is for anyone (the client portal shows it;
    a client is not told about the firm's plan); `staff_message` names the
    plan and its limit, for the firm's members."""

    def __init__(self, name: str, staff_message: str) -> None:
        super().__init__(
            f"We could not accept {name}: the firm cannot store more files at the"
            " moment. Please let them know, or send it another way."
        )
        self.staff_message = f"{name} was not stored. {staff_message}"


# File names ---------------------------------------------------------------------


def strip_control_characters(name: str) -> str:
    """Without control and format characters: no newlines or NULs, and no
    right-to-left override that would show `invoice<RLO>fdp.exe` as `invoiceexe.pdf`."""
    name = unicodedata.normalize("NFC", name)
    kept = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    return _SPACES.sub(" ", kept).strip()


def _bounded(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    stem, ext = os.path.splitext(name)
    ext = ext if len(ext) <= 16 else ""
    return stem[: limit - len(ext)].rstrip() + ext


def original_filename_for(name: str) -> str:
    """What the uploader called the file, kept for display: control characters
    removed, length bounded, path and all (`../../etc/passwd` stays readable)."""
    return _bounded(strip_control_characters(name), 255) or "unnamed"


def safe_filename(name: str) -> str:
    """A file name safe to show and to offer in a download: no directories, no
    control characters, no leading dots, bounded length."""
    name = strip_control_characters(name)
    name = _SEPARATORS.split(name)[-1].strip().lstrip(".").strip()
    return _bounded(name, MAX_NAME) or "unnamed"


def extension_of(name: str) -> str:
    return os.path.splitext(name)[1].lower()


def download_filename(original_filename: str, mime_type: str) -> str:
    """The name offered on download: the safe name, with the extension its
    content calls for when it has none."""
    name = safe_filename(original_filename)
    if not extension_of(name) and CANONICAL_EXTENSION.get(mime_type):
        name += CANONICAL_EXTENSION[mime_type]
    return name


# Receiving ----------------------------------------------------------------------


def incoming_dir() -> str | None:
    """Where uploads land while they arrive: beside the stored documents when the
    storage is a local folder (storing is then a rename on the same file system),
    else the system's temporary folder."""
    if isinstance(default_storage, FileSystemStorage):
        path = Path(default_storage.location) / "incoming"
        path.mkdir(parents=True, exist_ok=True, mode=0o750)
        return str(path)
    return settings.FILE_UPLOAD_TEMP_DIR


# An upload in progress writes to its temporary file at least every few seconds;
# one untouched for this long belongs to a process that died mid-upload.
ABANDONED_AFTER_SECONDS = 24 * 60 * 60


def incoming_sweep(*, now: float | None = None) -> int:
    """Delete the temporary files that crashed or killed uploads left in the
    local incoming folder (untouched for a day); return how many.

    A live upload's file is open and written to continuously, and a finished one
    has been renamed into storage or deleted, so age alone tells them apart.
    With S3 the folder is the system's temporary one, which is not ours to
    sweep: nothing is done."""
    if not isinstance(default_storage, FileSystemStorage):
        return 0
    folder = Path(default_storage.location) / "incoming"
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - ABANDONED_AFTER_SECONDS
    removed = 0
    for path in folder.glob("*.upload"):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


class _Worker(threading.Thread):
    """Applies `work` to each chunk put in, in a thread of its own."""

    QUEUED_CHUNKS = 6

    def __init__(self, work) -> None:
        super().__init__(name="upload-worker", daemon=True)
        self.work = work
        self.chunks: queue.Queue[bytes | None] = queue.Queue(self.QUEUED_CHUNKS)
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        while (chunk := self.chunks.get()) is not None:
            if self.error is None:
                try:
                    self.work(chunk)
                except BaseException as exc:  # re-raised in the request thread
                    self.error = exc

    def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(chunk)

    def finish(self) -> None:
        """Wait for every chunk; raise what went wrong, if anything."""
        self.chunks.put(None)
        self.join()
        if self.error is not None:
            raise self.error


# posix_fadvise is POSIX; elsewhere the final fsync simply does all the waiting.
_FADVISE = hasattr(os, "posix_fadvise")


class _WritingBehind:
    """Writes chunks to `file` and asks the kernel to start writing each few
    megabytes to disk at once, while the next ones arrive.

    The upload is fsynced before its row commits. Left to the end, that fsync
    waited for the whole file (about 50 ms for 100 MB here); started as the data
    comes (posix_fadvise DONTNEED starts the writeback of the range without
    waiting for it), the disk works while the network does (every EVERY bytes), and the final fsync
    waits only for the last few megabytes."""

    EVERY = 4 * 1024 * 1024

    def __init__(self, file) -> None:
        self.file = file
        self.written = 0
        self.started = 0  # bytes whose writeback has been started

    def __call__(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.written += len(chunk)
        if self.written - self.started >= self.EVERY and _FADVISE:
            self.file.flush()
            os.posix_fadvise(
                self.file.fileno(),
                self.started,
                self.written - self.started,
                os.POSIX_FADV_DONTNEED,
            )
            self.started = self.written


class _HashingWriter:
    """Hashes and writes the chunks of one upload, and sends them to the virus
    scanner, while the request thread goes on receiving the next ones. Hashing,
    writing and scanning each have a thread (hashlib, file writes and socket
    sends release the GIL), so they overlap instead of adding up. At most
    `_Worker.QUEUED_CHUNKS` chunks wait in each queue (the same chunk objects,
    not copies): memory stays bounded whatever the file's size. The scan worker
    never fails the upload (`StreamingScan` keeps its failure for the check)."""

    def __init__(self, file, hasher, scan: scanning.StreamingScan | None) -> None:
        self.scan = scan
        self.workers = (_Worker(hasher.update), _Worker(_WritingBehind(file))) + (
            (_Worker(scan.send),) if scan is not None else ()
        )

    def put(self, chunk: bytes) -> None:
        for worker in self.workers:
            worker.put(chunk)

    def finish(self) -> None:
        errors = []
        for worker in self.workers:
            try:
                worker.finish()
            except BaseException as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        if self.scan is not None:
            self.scan.end()  # clamd scans while the request goes on


class IncomingFile(TemporaryUploadedFile):
    """An upload on its way in: a temporary file (deleted when closed unless it has
    been moved into storage) and the SHA-256 of everything written to it. With
    `stream_scan` (the upload handler) and a scanner configured, every chunk is
    also streamed to clamd as it is appended (`scan_stream`)."""

    def __init__(
        self,
        name: str,
        content_type: str = "",
        charset: str | None = None,
        content_type_extra: dict | None = None,
        *,
        stream_scan: bool = False,
    ) -> None:
        # Not TemporaryUploadedFile.__init__: it would pick its own folder.
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=incoming_dir())
        UploadedFile.__init__(
            self, file, name, content_type, 0, charset, content_type_extra
        )
        # As sent: `name` is reduced to its last path part by UploadedFile.
        self.original_name = name
        self.hasher = hashlib.sha256()
        self.sha256 = ""
        self._writer: _HashingWriter | None = None
        self.scan_stream: scanning.StreamingScan | None = (
            scanning.StreamingScan()
            if stream_scan and scanning.streaming_enabled()
            else None
        )
        self.scan_verdict: scanning.ScanVerdict | None = None

    def append(self, data: bytes) -> None:
        if self._writer is None:
            self._writer = _HashingWriter(self.file, self.hasher, self.scan_stream)
        self._writer.put(data)

    def _stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.finish()

    def finish(self, size: int) -> None:
        self._stop_writer()
        self.file.flush()
        # On disk before the document's row is committed: a client's upload that
        # was acknowledged survives a power cut (a rename keeps the written data).
        os.fsync(self.file.fileno())
        self.file.seek(0)
        self.size = size
        self.sha256 = self.hasher.hexdigest()

    def close(self) -> None:
        # Closing a refused or abandoned upload: its writer's error changes nothing,
        # and clamd is not asked to scan a part of a file.
        if self.scan_stream is not None:
            self.scan_stream.abandon()
        with contextlib.suppress(Exception):
            self._stop_writer()
        if self.scan_stream is not None:
            self.scan_stream.close()
        super().close()

    @classmethod
    def from_file(cls, file: File, name: str, *, max_bytes: int) -> IncomingFile:
        """Copy any Django File (seeding, restores, tests) in, hashing as it goes;
        stops reading once the limit is passed."""
        incoming = cls(name)
        size = 0
        try:
            if hasattr(file, "seek"):
                file.seek(0)
            for chunk in file.chunks(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    break
                incoming.append(chunk)
            incoming.finish(size)
        except BaseException:
            incoming.close()
            raise
        return incoming


class DocumentUploadHandler(FileUploadHandler):
    """Streams each uploaded file of a request to an `IncomingFile`, hashing as it
    arrives, and skips a file (keeping none of it) once it passes `max_bytes`.

    The files that passed the limit are listed in `rejected` as (name, message);
    the view reports them like any other rejection.
    """

    chunk_size = 64 * 1024  # Django's parser scans each chunk for the boundary

    def __init__(self, request: HttpRequest | None = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.rejected: list[tuple[str, str]] = []
        self.file: IncomingFile | None = None

    def new_file(self, field_name, file_name, content_type, *args, **kwargs) -> None:
        super().new_file(field_name, file_name, content_type, *args, **kwargs)
        self.file = IncomingFile(file_name, content_type, stream_scan=True)
        raise StopFutureHandlers()

    def new_raw_file(self, file_name: str, content_type: str) -> None:
        """Start a file that is the whole request body (no multipart parser)."""
        self.file_name = file_name
        self.content_type = content_type
        self.file = IncomingFile(file_name, content_type, stream_scan=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > self.max_bytes:
            self.rejected.append((self.file_name, too_large_message(self.max_bytes)))
            self.file.close()  # deletes what had arrived
            raise SkipFile()  # the parser drains the rest of this part unread
        self.file.append(raw_data)

    def file_complete(self, file_size: int) -> IncomingFile:
        self.file.finish(file_size)
        return self.file

    def upload_interrupted(self) -> None:
        if self.file is not None:
            self.file.close()


def too_large_message(max_bytes: int) -> str:
    return f"it is larger than the firm's limit of {max_bytes // (1024 * 1024)} MB."


def receive_raw_upload(
    request: HttpRequest, handler: DocumentUploadHandler, name: str
) -> IncomingFile | None:
    """Feed a raw request body (one file) through the handler. None when it was
    too large (the reason is in `handler.rejected`)."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    handler.new_raw_file(name, request.content_type)
    received = 0
    try:
        while received < length:
            chunk = request.read(min(CHUNK, length - received))
            if not chunk:
                break
            handler.receive_data_chunk(chunk, received)
            received += len(chunk)
    except SkipFile:
        return None
    except BaseException:
        handler.upload_interrupted()
        raise
    return handler.file_complete(received)


def is_raw_upload(request: HttpRequest) -> bool:
    """A request whose body is one file (upload.js), named in X-File-Name."""
    return "X-File-Name" in request.headers


def raw_upload_name(request: HttpRequest) -> str:
    """The file name of a raw upload, sent percent-encoded in X-File-Name."""
    return unquote(request.headers.get("X-File-Name", ""))


# Checking -----------------------------------------------------------------------


@dataclass
class CheckedUpload:
    """An upload that may be kept: on disk, hashed, its type known."""

    file: IncomingFile
    original_filename: str
    filename: str  # safe to show and download
    size: int
    checksum: str
    mime_type: str
    scan: scanning.ScanVerdict
    has_scripts: bool = False  # a PDF with JavaScript or automatic actions

    def close(self) -> None:
        self.file.close()


def _kind(mime: str, head: bytes) -> str:
    if mime in KIND:
        return KIND[mime]
    description = magic.from_buffer(head) if head else "empty"
    return description.split(",")[0][:80]


def _ooxml_type(path: str, extension: str) -> str | None:
    """The Office type of a ZIP archive whose parts are those of `extension`."""
    folder, mime = OOXML[extension]
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    has_parts = "[Content_Types].xml" in names and any(
        n.startswith(folder) for n in names
    )
    return mime if has_parts else None


def sniff(path: str) -> tuple[str, bytes]:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return magic.from_buffer(head, mime=True), head


def validate_upload(*, file: File, filename: str, max_bytes: int) -> CheckedUpload:
    """Check an upload and return it ready to store, or raise UploadRejected.

    `file` is an `IncomingFile` from the upload handler (already on disk and
    hashed) or any Django File, which is copied in first. On rejection the
    temporary file is deleted.
    """
    original = original_filename_for(filename)
    name = safe_filename(filename)
    incoming = (
        file
        if isinstance(file, IncomingFile) and file.sha256
        else IncomingFile.from_file(file, name, max_bytes=max_bytes)
    )
    try:
        if incoming.size == 0:
            raise UploadRejected(f"{name} is empty.")
        if incoming.size > max_bytes:
            raise UploadRejected(
                f"{name} was not accepted: {too_large_message(max_bytes)}"
            )
        path = incoming.temporary_file_path()
        mime, head = sniff(path)
        extension = extension_of(name)
        if mime == "application/zip" and extension in OOXML:
            mime = _ooxml_type(path, extension) or mime
        if mime not in ALLOWED:
            named = f", not what its {extension} name says" if extension else ""
            raise UploadRejected(
                f"{name} was not accepted: its content is {_kind(mime, head)}"
                f" ({mime}){named}. {ACCEPTED_TEXT}"
            )
        if extension and extension not in ALLOWED[mime]:
            raise UploadRejected(
                f"{name} was not accepted: the name ends in {extension} but the"
                f" content is {_kind(mime, head)} ({mime}). Rename it to match its"
                " content, or choose the intended file."
            )
        if extension == ".csv":
            mime = "text/csv"  # libmagic reads short or simple CSV as plain text
        # With the verdict in the request (scanning.scan_in_request), the
        # content checks run while clamd scans what was streamed to it; the
        # verdict is read after them. An infected file is quarantined whatever
        # else it is, so a refusal by the checks waits for the verdict.
        # Otherwise the upload is stored PENDING and a job scans it.
        has_scripts, refused = False, None
        try:
            has_scripts = content_checks.inspect(path, mime, ooxml=mime in OOXML_TYPES)
        except content_checks.ContentRefused as exc:
            refused = exc
        verdict = _verdict_now_or_later(incoming, path, name)
        if refused is not None and verdict.status != scanning.ScanStatus.INFECTED:
            raise UploadRejected(f"{name} was not accepted: {refused.reason}") from (
                refused
            )
    except BaseException:
        incoming.close()
        raise
    return CheckedUpload(
        file=incoming,
        original_filename=original,
        filename=download_filename(name, mime),
        size=incoming.size,
        checksum=incoming.sha256,
        mime_type=mime,
        scan=verdict,
        has_scripts=has_scripts,
    )


TOO_LONG_TO_SCAN = (
    "{name} was not accepted: it is too large for the virus scanner to check."
    " Please send it in smaller parts."
)
SCANNER_DOWN = (
    "{name} was not accepted: the virus scanner is not answering, so no file can"
    " be accepted just now. Please try again in a few minutes."
)


PENDING = scanning.ScanVerdict(scanning.ScanStatus.PENDING)


def _verdict_now_or_later(
    incoming: IncomingFile, path: str, name: str
) -> scanning.ScanVerdict:
    """The verdict when the request waits for it (`_scan`), else PENDING (a job
    scans the stored file) or NOT_SCANNED (no scanner)."""
    if scanning.scan_in_request():
        return _scan(incoming, path, name)
    if scanning.scanner_configured():
        return PENDING
    return scanning.ScanVerdict(scanning.ScanStatus.NOT_SCANNED)


def _scan(incoming: IncomingFile, path: str, name: str) -> scanning.ScanVerdict:
    """The scanner's verdict, once per received file (a message's attachments
    are checked, then stored: scanned once): the streamed scan's when the file
    came through the upload handler, else (or when the stream broke) a scan of
    the received file. Refuses the upload when the scanner is configured but
    gives no verdict (fail closed)."""
    verdict = incoming.scan_verdict
    stream, incoming.scan_stream = incoming.scan_stream, None
    if verdict is None and stream is not None:
        try:
            verdict = stream.verdict()
        except scanning.FileTooLongToScan as exc:
            _refuse_too_long(exc, name)
        except scanning.ScannerUnavailable as exc:
            logger.warning(
                "The streamed scan of an upload gave no verdict (%s);"
                " scanning the received file",
                exc.reason,
            )
    if verdict is None:
        try:
            verdict = scanning.scan_path(path)
        except scanning.FileTooLongToScan as exc:
            _refuse_too_long(exc, name)
        except scanning.ScannerUnavailable as exc:
            logger.error("Upload refused, virus scanner unavailable: %s", exc.reason)
            raise UploadRejected(SCANNER_DOWN.format(name=name)) from exc
    incoming.scan_verdict = verdict
    return verdict


def _refuse_too_long(exc: scanning.FileTooLongToScan, name: str) -> NoReturn:
    logger.error(
        "Upload refused: %s. clamd's StreamMaxLength, MaxFileSize and MaxScanSize"
        " must be at least the largest firm upload limit (docs/decisions.md).",
        exc.reason,
    )
    raise UploadRejected(TOO_LONG_TO_SCAN.format(name=name)) from exc
