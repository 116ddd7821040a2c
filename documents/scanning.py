"""Virus scanning of uploads with ClamAV's clamd, over its unix socket.

Two moments for the verdict (`CLAMD_SCAN_IN_REQUEST`):

- after the upload's answer (the default): the upload is checked cheaply in its
  request (size, type, content limits), stored PENDING, and a job scans the
  stored file (`scan_file`; documents.services.scan applies the verdict). A
  PENDING version is never served, shared or read until the job finds it clean;
  a scanner that does not answer keeps it PENDING and the job is retried, then
  FAILED ("could not be checked", still never served). The upload costs no scan.
- in the upload's request (`CLAMD_SCAN_IN_REQUEST=true`): every upload is
  scanned before anything keeps it (documents.upload.validate_upload), so a
  file's verdict exists before it is stored. This costs the upload clamd's whole
  scan (about 400-500 ms of CPU for a new 10 MB PDF); the rest of this note
  describes that mode.

- no scanner configured (`CLAMD_SOCKET` empty): NOT_SCANNED, and the document's
  pages say so;
- clamd answers OK: CLEAN; FOUND: INFECTED with the signature's name (the
  upload is then quarantined: documents.services.documents);
- clamd configured but not answering: `ScannerUnavailable`, and the upload is
  refused. Failing closed: while the scanner is down nothing new comes in,
  rather than files nobody checked being taken as if they had been;
- a file longer than clamd's StreamMaxLength: `FileTooLongToScan` (clamd says
  so, then closes the connection; the refusal says the file is too large to
  check, not that the scanner is down).

Two ways to scan, one verdict:

- `StreamingScan`: an upload that comes through the request's upload handler
  (documents.upload.DocumentUploadHandler) is sent to clamd while it arrives,
  each chunk as it is received (a worker thread beside hashing and writing);
  the end of the stream is sent when the last chunk has arrived, and the verdict
  is read when the upload is checked. The transfer to clamd and clamd's copy of
  the stream overlap the upload, and clamd's scan overlaps the end of the
  request (fsync, type sniffing, content checks). A stream that broke (clamd
  restarted, a stall longer than clamd's ReadTimeout) gives no verdict: the
  received file is then scanned again with `scan_path`, which fails closed.
- `scan_path`: the whole file at once, for files that did not come through the
  handler (a service copying a file in, seeding, restores) and as the fallback.

The client is clamav-client's `ClamdUnixSocket`, with one change: its
`instream` sends the file in 1 KiB chunks (one system call and one small copy
each), which made scanning a 10 MB file three to five times slower here than the
same INSTREAM command in 256 KiB chunks. `_ClamdSocket` speaks the same
protocol (4-byte big-endian length, the bytes, and a zero length to end) in
steps, so that a stream can be fed chunk by chunk.
"""

from __future__ import annotations

import contextlib
import logging
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from clamav_client.clamd import (
    BufferTooLongError,
    ClamdError,
    ClamdUnixSocket,
    ScanResults,
)
from django.conf import settings
from django.utils import timezone

from documents.models import ScanStatus

logger = logging.getLogger(__name__)

STREAM_CHUNK = 256 * 1024


class ScannerUnavailable(Exception):
    """The scanner is configured but gave no verdict; `reason` says why (for logs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileTooLongToScan(ScannerUnavailable):
    """clamd refused the stream: longer than its StreamMaxLength."""


@dataclass(frozen=True)
class ScanVerdict:
    status: ScanStatus
    signature: str = ""
    scanned_at: datetime | None = field(default=None)


class _ClamdSocket(ClamdUnixSocket):
    def open_stream(self) -> None:
        self._init_socket()
        self._send_command("INSTREAM")

    def send_chunk(self, chunk: bytes) -> None:
        try:
            self.clamd_socket.sendall(struct.pack("!L", len(chunk)))
            self.clamd_socket.sendall(chunk)
        except OSError as exc:
            self._raise_why(exc)

    def end_stream(self) -> None:
        try:
            self.clamd_socket.sendall(struct.pack("!L", 0))
        except OSError as exc:
            self._raise_why(exc)

    def _raise_why(self, exc: OSError) -> None:
        """A send failed: clamd closes a stream past its StreamMaxLength after
        saying so; raise that (BufferTooLongError) when it did, else `exc`."""
        if not isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            raise exc  # a timeout: clamd is stuck, not waiting to be read
        try:
            answer = self._recv_response()
        except ClamdError:
            answer = ""
        if answer == "INSTREAM size limit exceeded. ERROR":
            raise BufferTooLongError(answer) from exc
        raise exc

    def stream_result(self) -> ScanResults:
        result = self._recv_response()
        if not result:
            return {}
        if result == "INSTREAM size limit exceeded. ERROR":
            raise BufferTooLongError(result)
        filename, reason, status = self._parse_response(result)
        return {filename: (status, reason)}

    def instream(self, buff: BinaryIO) -> ScanResults:
        """clamav-client's INSTREAM, in STREAM_CHUNK pieces (see the module)."""
        try:
            self.open_stream()
            while chunk := buff.read(STREAM_CHUNK):
                self.send_chunk(chunk)
            self.end_stream()
            return self.stream_result()
        finally:
            self._close_socket()


def scanner_configured() -> bool:
    return bool(settings.CLAMD_SOCKET)


def scan_in_request() -> bool:
    """The upload's request waits for the verdict (see the module)."""
    return scanner_configured() and settings.CLAMD_SCAN_IN_REQUEST


def streaming_enabled() -> bool:
    """Uploads are scanned while they arrive (see the module; `CLAMD_STREAM`)."""
    return scan_in_request() and settings.CLAMD_STREAM


def _client() -> _ClamdSocket:
    return _ClamdSocket(settings.CLAMD_SOCKET, timeout=settings.CLAMD_TIMEOUT)


def _unavailable(exc: BaseException) -> ScannerUnavailable:
    if isinstance(exc, BufferTooLongError):
        return FileTooLongToScan("the file is longer than clamd's StreamMaxLength")
    return ScannerUnavailable(str(exc) or exc.__class__.__name__)


def _verdict(results: ScanResults) -> ScanVerdict:
    status, signature = results.get("stream", (None, None))
    now = timezone.now()
    if status == "OK":
        return ScanVerdict(ScanStatus.CLEAN, scanned_at=now)
    if status == "FOUND":
        return ScanVerdict(ScanStatus.INFECTED, signature or "unnamed", now)
    raise ScannerUnavailable(f"unexpected answer from clamd: {results!r}")


def scan_path(path: str) -> ScanVerdict:
    """The verdict on the file at `path` (see the module). Raises ScannerUnavailable."""
    if not scanner_configured():
        return ScanVerdict(ScanStatus.NOT_SCANNED)
    try:
        with open(path, "rb") as handle:
            results = _client().instream(handle)
    except (ClamdError, OSError) as exc:
        raise _unavailable(exc) from exc
    return _verdict(results)


def scan_file(handle: BinaryIO) -> ScanVerdict:
    """The verdict on an open binary file (a stored document: local or S3).
    Raises ScannerUnavailable (FileTooLongToScan)."""
    if not scanner_configured():
        return ScanVerdict(ScanStatus.NOT_SCANNED)
    try:
        results = _client().instream(handle)
    except (ClamdError, OSError) as exc:
        raise _unavailable(exc) from exc
    return _verdict(results)


class StreamingScan:
    """One upload's INSTREAM session, fed chunk by chunk while the file arrives
    (see the module). `send` and `end` run in the upload's scan worker and never
    raise: a failure is kept (`failure`), the rest of the upload goes on
    unaffected, and `verdict` then raises it (ScannerUnavailable) so that the
    caller scans the received file instead. `verdict` is asked once, in the
    request thread after the worker has finished; `abandon` and `close` give the
    session up (clamd drops what it had received)."""

    def __init__(self) -> None:
        self._client = _client()
        self._open = False
        self._ended = False
        self._failure: ScannerUnavailable | None = None

    @property
    def failure(self) -> str:
        """Why no verdict will come; empty while all is well."""
        return self._failure.reason if self._failure else ""

    def send(self, chunk: bytes) -> None:
        if self._failure:
            return
        try:
            if not self._open:
                self._client.open_stream()
                self._open = True
            self._client.send_chunk(chunk)
        except (ClamdError, OSError) as exc:
            self._fail(_unavailable(exc))

    def end(self) -> None:
        """The last chunk has been sent: clamd starts scanning."""
        if self._failure or self._ended:
            return
        if not self._open:
            self._fail(ScannerUnavailable("nothing was streamed"))
            return
        try:
            self._client.end_stream()
            self._ended = True
        except (ClamdError, OSError) as exc:
            self._fail(_unavailable(exc))

    def verdict(self) -> ScanVerdict:
        """clamd's verdict on the bytes streamed (waits for the scan to end).
        Raises ScannerUnavailable (FileTooLongToScan) when the stream gave none."""
        try:
            if not self._failure and not self._ended:
                self._failure = ScannerUnavailable("the stream was not ended")
            if self._failure:
                raise self._failure
            try:
                results = self._client.stream_result()
            except (ClamdError, OSError) as exc:
                raise _unavailable(exc) from exc
            return _verdict(results)
        finally:
            self.close()

    def abandon(self) -> None:
        """No verdict is wanted: the chunks still queued are not sent, nor the end."""
        self._failure = self._failure or ScannerUnavailable("abandoned")

    def close(self) -> None:
        if self._open:
            self._open = False
            with contextlib.suppress(OSError):
                self._client._close_socket()

    def _fail(self, failure: ScannerUnavailable) -> None:
        self._failure = failure
        self.close()
