"""What a person sees when a part the application stands on fails for a moment.

- The database is unreachable (restarting, failing over, the network between
  us dropped): **503** with "We could not reach the database; try again in a
  moment" and `Retry-After`, within `DB_CONNECT_TIMEOUT` seconds, never a stack
  trace or a hanging page. `CONN_HEALTH_CHECKS` replaces a dead connection at the
  start of the next request, so service resumes by itself once the server is back.
- The disk of the file store (or of the folder uploads arrive in) is full:
  **507** with "nothing was saved", as JSON for the upload script, else a
  message on the page the form came from. The upload's temporary file is deleted
  at once (`upload_interrupted` on the request's upload handlers); the services
  store a file before writing its row and delete it when anything fails, so
  neither a partial file nor a row is left behind.

Two hooks, because Django turns an exception into a response at the layer that
raised it: `OutageMiddleware.process_exception` sees exceptions of views (also
with DEBUG on); `server_error` (the project's `handler500`) sees those raised
by middleware (a session or a firm loaded before the view) with DEBUG off.
"""

from __future__ import annotations

import errno
import logging
import sys
from urllib.parse import unquote

from django.contrib import messages
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_SECONDS = 5
STORAGE_FULL_MESSAGE = (
    "The server has no room to store files right now, so nothing was saved. "
    "Please try again later."
)
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def is_storage_full(exc: BaseException | None) -> bool:
    """An OSError saying the disk or the quota is full, also when it is the cause
    of another error (a storage backend that wraps it)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError) and exc.errno in _FULL:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def database_unavailable(request: HttpRequest | None = None) -> HttpResponse:
    """503, rendered without the database: no request context, no session."""
    body = loader.get_template("503.html").render()
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _close_uploads(request: HttpRequest) -> None:
    """Delete what arrived of the request's upload (its temporary files)."""
    # Only handlers a view installed (reading `upload_handlers` would make some).
    for handler in getattr(request, "_upload_handlers", None) or ():
        interrupted = getattr(handler, "upload_interrupted", None)
        if interrupted is not None:
            try:
                interrupted()
            except Exception:  # cleaning up must not hide the real answer
                logger.exception("Could not discard an interrupted upload")


def storage_full(request: HttpRequest) -> HttpResponse:
    _close_uploads(request)
    wants_json = (
        "X-File-Name" in request.headers
        or request.accepts("application/json")
        and not request.accepts("text/html")
    )
    if wants_json:
        name = unquote(request.headers.get("X-File-Name", ""))  # as upload.js sent it
        return JsonResponse(
            {"files": [{"name": name, "ok": False, "message": STORAGE_FULL_MESSAGE}]},
            status=507,
        )
    back = request.headers.get("Referer", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        messages.error(request, STORAGE_FULL_MESSAGE)
        return redirect(back)
    body = loader.get_template("507.html").render({"message": STORAGE_FULL_MESSAGE})
    return HttpResponse(body, status=507)


class OutageMiddleware:
    """Answers a view's database outage with 503 and a full disk with 507."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if is_database_outage(exception):
            logger.error("Database unreachable: %s", exception)
            return database_unavailable(request)
        if is_storage_full(exception):
            logger.critical("File storage is full: %s", exception)
            return storage_full(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the outage pages for what middleware raised, else 500.html."""
    exc = sys.exc_info()[1]
    if is_database_outage(exc):
        return database_unavailable(request)
    if is_storage_full(exc):
        return storage_full(request)
    body = loader.get_template("500.html").render()
    return HttpResponse(body, status=500)
