"""Response and request hygiene that holds for every page: what an outside probe
of the running app checks first.

- `RefuseNulMiddleware`: a NUL character anywhere a view or the session could
  pass it to PostgreSQL is a 400, once, at the edge. PostgreSQL text cannot hold
  NUL, so psycopg raises on such a parameter and the page was a 500. Forms
  already refuse it (CharField's ProhibitNullCharactersValidator); the raw reads
  (`request.GET.get("q")`, cursors, `next`, cookies) are the ones this guards,
  including the ones added later.
- `NoStoreMiddleware`: firm and portal pages, exports and downloads hold client
  data; no shared or browser cache may keep them.
- `BrowserPoliciesMiddleware`: the browser features no page of ours uses are
  switched off (`Permissions-Policy`), so an injected script or a hostile frame
  cannot ask for them; and `Reporting-Endpoints` names where the CSP's
  `report-to` sends violations (advisoros.audit.csp).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, QueryDict

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NO_STORE = "private, no-store"
# /o/<firm>/ (staff) and /p/<firm>/ (portal). /brand/ and /static/ stay cacheable.
PRIVATE_PREFIXES = ("/o/", "/p/")


def _query_has_nul(query: QueryDict) -> bool:
    return any(
        NUL in key or any(NUL in value for value in values)
        for key, values in query.lists()
    )


def has_nul(request: HttpRequest) -> bool:
    """Whether the path, a query parameter (name or value) or a cookie holds a NUL."""
    return (
        NUL in request.path_info
        or _query_has_nul(request.GET)
        or any(NUL in k or NUL in v for k, v in request.COOKIES.items())
    )


def form_has_nul(request: HttpRequest, view: Callable) -> bool:
    """Whether a posted form field holds a NUL.

    A view that reads its own body is left alone: the upload pages are
    csrf_exempt because they choose their upload handler before the body is
    read and check CSRF after (documents.receiving); touching `request.POST`
    here, even for a raw body, would take that choice away. For every other
    view the CSRF middleware parses the form anyway, so reading it here costs
    nothing.
    """
    if request.method != "POST" or getattr(view, "csrf_exempt", False):
        return False
    if request.content_type not in FORM_TYPES:
        return False
    return _query_has_nul(request.POST)


class RefuseNulMiddleware:
    """400 before any view or the session reads a NUL (see the module's docstring).

    Placed before the session middleware: a forged session cookie with a NUL
    would otherwise reach the session table's lookup."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            # Django answers with templates/400.html.
            raise BadRequest("A NUL character in the request.")
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs) -> None:
        if form_has_nul(request, view):
            raise BadRequest("A NUL character in a form field.")


def holds_private_data(request: HttpRequest, response: HttpResponse) -> bool:
    """A firm or portal page, or any download (an export, a document)."""
    if request.path_info.startswith(PRIVATE_PREFIXES):
        return True
    disposition = response.get("Content-Disposition", "")
    return disposition.lower().startswith("attachment")


class NoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response that holds client data.

    It replaces whatever the view set, unless that already says private and
    no-store (the sign-in pages' `never_cache`): a view cannot open a firm page
    to caches by mistake."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if holds_private_data(request, response):
            current = response.get("Cache-Control", "")
            if "no-store" not in current or "private" not in current:
                response["Cache-Control"] = NO_STORE
        return response


class BrowserPoliciesMiddleware:
    """`Permissions-Policy` (settings.PERMISSIONS_POLICY) and `Reporting-Endpoints`
    (settings.REPORTING_ENDPOINTS) on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.headers = {
            "Permissions-Policy": permissions_policy(settings.PERMISSIONS_POLICY),
            "Reporting-Endpoints": ", ".join(
                f'{name}="{url}"' for name, url in settings.REPORTING_ENDPOINTS.items()
            ),
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for header, value in self.headers.items():
            if value:
                response.headers.setdefault(header, value)
        return response


def permissions_policy(features: dict[str, list[str]]) -> str:
    """{"camera": [], "fullscreen": ["self"]} -> 'camera=(), fullscreen=(self)'."""
    return ", ".join(
        f"{feature}=({' '.join(origins)})" for feature, origins in features.items()
    )
