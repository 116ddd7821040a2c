"""Receiving uploaded files for any page that takes them: staff uploads, the
client portal's request items and message attachments.

`documents.upload.DocumentUploadHandler` must be on the request before anything
reads the body; Django's CSRF check reads the body of a form, so an upload view
is exempt from the middleware's check and runs the same check itself
(`csrf_rejection`) once the handler is in place::

    handler = install_handler(request, organization_id)
    if too_large_unread(request, handler):
        return refused_unread(request, handler, back)
    if rejection := csrf_rejection(request):
        return rejection
    received = receive(request, handler)
    store_each(request, received, token, store, describe)
    return answer(request, received, done=..., back=...)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect

from advisoros.forms import error_text
from advisoros.http import wants_json
from documents.models import Document
from documents.services import documents as services
from documents.upload import (
    DocumentUploadHandler,
    IncomingFile,
    UploadRejected,
    is_raw_upload,
    raw_upload_name,
    receive_raw_upload,
    too_large_message,
)

# A form without JavaScript may send several files in one request; the body is
# refused unread beyond this many files at the firm's limit.
MAX_FILES_PER_REQUEST = 20
UPLOAD_TOKEN_SECONDS = 60 * 60


@dataclass
class Outcome:
    """What became of one file, for the page (flash message) or the script (JSON)."""

    name: str
    ok: bool
    message: str
    url: str = ""
    duplicate: bool = False

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "ok": self.ok,
            "message": self.message,
            "url": self.url,
            "duplicate": self.duplicate,
        }


@dataclass
class Received:
    """The files of one upload request and the fields sent with them."""

    files: list[IncomingFile]
    fields: QueryDict
    outcomes: list[Outcome] = field(default_factory=list)
    raw: bool = False

    def close(self) -> None:
        for file in self.files:
            file.close()


def install_handler(
    request: HttpRequest, organization_id: int
) -> DocumentUploadHandler:
    handler = DocumentUploadHandler(
        request, max_bytes=services.max_upload_bytes(organization_id)
    )
    request.upload_handlers = [handler]
    return handler


def too_large_unread(request: HttpRequest, handler: DocumentUploadHandler) -> bool:
    """A body that cannot hold acceptable files: refused before reading it."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if is_raw_upload(request):
        return length > handler.max_bytes
    return length > handler.max_bytes * MAX_FILES_PER_REQUEST + 1024 * 1024


_csrf = CsrfViewMiddleware(lambda request: None)


def csrf_rejection(request: HttpRequest) -> HttpResponse | None:
    """Django's CSRF check (it parses a form's body, through the handler)."""
    return _csrf.process_view(request, None, (), {})


def receive(request: HttpRequest, handler: DocumentUploadHandler) -> Received:
    """Read the body; raw bodies carry the form's fields in X-Document-Fields."""
    if is_raw_upload(request):
        name = raw_upload_name(request)
        file = receive_raw_upload(request, handler, name)
        received = Received(
            files=[file] if file is not None else [],
            fields=QueryDict(request.headers.get("X-Document-Fields", "")),
            raw=True,
        )
    else:
        received = Received(files=request.FILES.getlist("files"), fields=request.POST)
    received.outcomes = [
        Outcome(name, False, f"{name} was not accepted: {message}")
        for name, message in handler.rejected
    ]
    return received


def refused_unread(request: HttpRequest, handler: DocumentUploadHandler, back: str):
    message = f"The upload was not accepted: {too_large_message(handler.max_bytes)}"
    if wants_json(request) or is_raw_upload(request):
        return JsonResponse(
            {"files": [{"name": "", "ok": False, "message": message}]}, status=413
        )
    messages.error(request, message)
    return redirect(back)


def first_time(organization_id: int, token: str, file: IncomingFile) -> bool:
    """False when this form (token) has already sent these exact bytes."""
    if not token:
        return True
    key = f"documents:upload:{organization_id}:{token}:{file.sha256}"
    return cache.add(key, True, UPLOAD_TOKEN_SECONDS)


def forget(organization_id: int, token: str, file: IncomingFile) -> None:
    if token:
        cache.delete(f"documents:upload:{organization_id}:{token}:{file.sha256}")


def store_each(
    organization_id: int,
    received: Received,
    token: str,
    store: Callable[[IncomingFile], Document],
    describe: Callable[[str, Document], Outcome],
) -> None:
    """Store each file once per form (`token`): a double submit is not a second copy.
    `describe` says what became of a stored file (staff and portal word it apart)."""
    for file in received.files:
        name = file.original_name
        if not first_time(organization_id, token, file):
            file.close()
            received.outcomes.append(
                Outcome(name, True, f"{name} had already been received from this form.")
            )
            continue
        try:
            document = store(file)
        except UploadRejected as exc:
            forget(organization_id, token, file)
            received.outcomes.append(Outcome(name, False, exc.message))
            continue
        except ValidationError as exc:
            forget(organization_id, token, file)
            received.outcomes.append(
                Outcome(name, False, f"{name}: " + error_text(exc))
            )
            continue
        received.outcomes.append(describe(name, document))


def answer(
    request: HttpRequest, received: Received, *, done: str, back: str
) -> HttpResponse:
    """JSON for the page's script; flash messages and a redirect for a plain form."""
    received.close()  # whatever was not stored
    if not received.outcomes:
        received.outcomes = [Outcome("", False, "Choose at least one file to upload.")]
    ok = all(o.ok for o in received.outcomes)
    if received.raw or wants_json(request):
        return JsonResponse(
            {"files": [o.as_dict() for o in received.outcomes]},
            status=200 if ok else 400,
        )
    for outcome in received.outcomes:
        if not outcome.ok:
            messages.error(request, outcome.message)
        elif outcome.duplicate:
            messages.warning(request, outcome.message)
        else:
            messages.success(request, outcome.message)
    return redirect(done if any(o.ok for o in received.outcomes) else back)
