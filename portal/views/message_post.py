"""Receiving a secure message's form: the portal's thread and the firm's both post here.

The body is read as every upload is (documents.receiving): the upload handler
first, a body too large for any acceptable file refused unread, Django's CSRF
check once the handler is in place. Then all or nothing (`message_send`): the
text goes with its files, or the form comes back with the text as typed and
the reason a file was refused.

Not `store_each` and `answer`: they store and report each file on its own,
which suits files sent for a request's item, while a message's files belong to
its text. For the same reason a double submit is caught per form (its token)
rather than per file: the second click sends neither the text nor the files.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from advisoros.forms import add_service_errors
from documents.receiving import (
    UPLOAD_TOKEN_SECONDS,
    csrf_rejection,
    install_handler,
    receive,
    refused_unread,
    too_large_unread,
)
from documents.upload import IncomingFile, UploadRejected
from portal.forms_messages import MessageForm
from portal.models import Message

Send = Callable[[str, list[IncomingFile]], Message]


def message_post(
    request: HttpRequest,
    *,
    organization_id: int,
    thread_url: str,
    send: Send,
    refused: Callable[[str], None] = lambda why: None,
) -> HttpResponse | MessageForm:
    """Send the posted message: the redirect to the thread, or the bound form
    with its errors, for the thread page to show again. `send(body, files)`
    calls message_send; `refused(why)` records a refused file."""
    handler = install_handler(request, organization_id)
    if too_large_unread(request, handler):
        # Nothing was read, the text included: the page says why, the text is lost.
        refused("too large")
        return refused_unread(request, handler, thread_url)
    if rejection := csrf_rejection(request):
        return rejection
    received = receive(request, handler)
    form = MessageForm(received.fields, has_files=bool(received.files))
    valid = form.is_valid()
    for outcome in received.outcomes:  # files over the limit, skipped unread
        form.add_error(None, outcome.message)
        refused(outcome.message)
    if not valid or received.outcomes:
        received.close()
        return form
    token = form.cleaned_data["upload_token"]
    if not _first_send(organization_id, token):
        received.close()
        messages.info(request, "This message had already been sent.")
        return redirect(thread_url)
    try:
        send(form.cleaned_data["body"], received.files)
    except UploadRejected as exc:
        _forget(organization_id, token)
        received.close()
        form.add_error(None, exc.message)
        refused(exc.message)
        return form
    except ValidationError as exc:
        _forget(organization_id, token)
        received.close()
        add_service_errors(form, exc)
        return form
    messages.success(request, "Message sent.")
    return redirect(thread_url)


def _key(organization_id: int, token: str) -> str:
    return f"portal:message:{organization_id}:{token}"


def _first_send(organization_id: int, token: str) -> bool:
    """False when this form (token) has already sent its message."""
    if not token:
        return True
    return cache.add(_key(organization_id, token), True, UPLOAD_TOKEN_SECONDS)


def _forget(organization_id: int, token: str) -> None:
    if token:
        cache.delete(_key(organization_id, token))
