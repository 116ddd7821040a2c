"""The endpoint browsers send Content-Security-Policy violations to.

The policy (settings.SECURE_CSP) names it twice: `report-uri` (every browser)
and `report-to csp` with the `Reporting-Endpoints` header (the Reporting API,
advisoros.security). Two body formats arrive:
- application/csp-report: {"csp-report": {"document-uri": ..., "violated-directive": ...}}
- application/reports+json: [{"type": "csp-violation", "body": {"documentURL": ...}}]

Anyone can post here, so it is bounded: a body over CSP_REPORT_MAX_BYTES is
refused unread, an address gets CSP_REPORTS_PER_MINUTE rows a minute (the rest
are answered and dropped), a body holds at most MAX_REPORTS_PER_BODY reports,
and every stored field is cut to its column. Query strings are dropped from
URLs: they may hold search words or tokens.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from advisoros.audit.models import CspReport
from advisoros.http import client_ip

CONTENT_TYPES = (
    "application/csp-report",
    "application/reports+json",
    "application/json",
)
MAX_REPORTS_PER_BODY = 10
# The Reporting API's camelCase names and report-uri's hyphenated ones.
FIELDS = {
    "document_uri": ("documentURL", "document-uri"),
    "violated_directive": (
        "effectiveDirective",
        "effective-directive",
        "violated-directive",
    ),
    "blocked_uri": ("blockedURL", "blocked-uri"),
    "source_file": ("sourceFile", "source-file"),
    "line_number": ("lineNumber", "line-number"),
    "column_number": ("columnNumber", "column-number"),
    "disposition": ("disposition",),
    "sample": ("sample", "script-sample"),
}
URL_FIELDS = ("document_uri", "blocked_uri", "source_file")


@csrf_exempt  # browsers post reports without a token (and without cookies)
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    if request.content_type not in CONTENT_TYPES:
        return HttpResponse(status=415)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.CSP_REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        payload = json.loads(request.read(settings.CSP_REPORT_MAX_BYTES))
    except ValueError:
        return HttpResponse(status=400)
    reports = violations(payload)[:MAX_REPORTS_PER_BODY]
    ip = client_ip(request)
    allowed = _allowance(ip, len(reports))
    CspReport.objects.bulk_create(
        CspReport(
            **report,
            ip_address=ip,
            user_agent=request.headers.get("User-Agent", "")[:300],
        )
        for report in reports[:allowed]
    )
    return HttpResponse(status=204)


def violations(payload) -> list[dict]:
    """The reports in either format, as CspReport's fields (cut to size)."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        bodies = [payload["csp-report"]]
    elif isinstance(payload, list):
        bodies = [
            item["body"]
            for item in payload
            if isinstance(item, dict)
            and item.get("type") == "csp-violation"
            and isinstance(item.get("body"), dict)
        ]
    else:
        bodies = []
    return [_fields(body) for body in bodies]


def _fields(body: dict) -> dict:
    found = {}
    for field, names in FIELDS.items():
        value = next((body[n] for n in names if body.get(n) not in (None, "")), None)
        if field in ("line_number", "column_number"):
            found[field] = (
                value if isinstance(value, int) and 0 <= value < 2**31 else None
            )
            continue
        text = str(value or "").replace("\x00", "")
        if field in URL_FIELDS:
            text = _without_query(text)
        max_length = CspReport._meta.get_field(field).max_length
        found[field] = text[:max_length]
    return found


def _without_query(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _allowance(ip: str | None, wanted: int) -> int:
    """How many of `wanted` rows this address may still store this minute."""
    if not wanted:
        return 0
    key = f"csp-reports:{ip or '-'}"
    cache.add(key, 0, 60)
    try:
        used = cache.incr(key, wanted)
    except ValueError:  # expired between add and incr
        cache.set(key, wanted, 60)
        used = wanted
    return max(0, min(wanted, settings.CSP_REPORTS_PER_MINUTE - (used - wanted)))
