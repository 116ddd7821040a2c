"""Security headers: a nonce-based Content-Security-Policy, no framing, no CDNs.

The policy only protects if the pages keep to it: every <script> must be an
external file from our own origin or carry the response's nonce, and no page may
pull a script or stylesheet from another host.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client

from advisoros.audit.models import CspReport
from advisoros.security import NoStoreMiddleware
from tests.portal.builders import (
    make_contact,
    make_grant,
    make_portal_account,
    portal_login,
)
from tests.tenancy.test_leak_sweep import FIRM_ROUTES, _fill

ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password-reset/"]
MEMBER_PAGES = [
    "/o/alpha/",
    "/o/alpha/members/",
    "/o/alpha/settings/",
    "/o/alpha/audit/",
    "/accounts/security/",
    "/accounts/password/",
    "/admin/",
    "/admin/tenancy/membership/",
]


class TagCollector(HTMLParser):
    """The attributes of every <script> and <link> tag in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        elif tag == "link":
            self.links.append(dict(attrs))


def tags(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    return collector


def script_nonce(csp: str) -> str:
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    match = re.search(r"'nonce-([^']+)'", script_src)
    assert match, f"no nonce in {script_src!r}"
    return match.group(1)


def is_third_party(url: str | None) -> bool:
    """An absolute or protocol-relative URL points off the app's own origin."""
    if not url:
        return False
    match = re.match(r"^(?:https?:)?//([^/:]+)", url.strip(), re.IGNORECASE)
    return bool(match) and match.group(1) not in (
        "testserver",
        "127.0.0.1",
        "localhost",
    )


def pages(client: Client, urls: list[str]):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        yield url, response
    if "/accounts/security/" in urls:
        # The two-factor set-up page (its QR code is a data: image) answers a POST.
        url = "/accounts/security/two-factor/setup/"
        response = client.post(url)
        assert response.status_code == 200, url
        yield url, response


def test_a_firm_page_sends_a_policy_with_a_script_nonce(cast, login_as):
    response = login_as(cast.alice).get("/o/alpha/")

    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert len(script_nonce(csp)) >= 16


def test_each_response_gets_a_fresh_nonce(cast, login_as):
    client = login_as(cast.alice)

    first = script_nonce(client.get("/o/alpha/").headers["Content-Security-Policy"])
    second = script_nonce(client.get("/o/alpha/").headers["Content-Security-Policy"])

    assert first != second


def test_every_script_is_a_file_or_carries_the_nonce(cast, login_as):
    client = login_as(cast.alice)

    for url, response in pages(client, MEMBER_PAGES):
        nonce = script_nonce(response.headers["Content-Security-Policy"])
        scripts = tags(response.content.decode()).scripts
        assert scripts, url
        for script in scripts:
            assert script.get("src") or script.get("nonce") == nonce, (url, script)


def test_pages_refuse_to_be_framed(cast, login_as, client):
    anonymous = client.get("/accounts/login/")
    member = login_as(cast.alice).get("/o/alpha/")

    assert anonymous.headers["X-Frame-Options"] == "DENY"
    assert member.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "member"])
def test_no_page_loads_scripts_or_styles_from_another_host(
    cast, login_as, client, signed_in
):
    if signed_in:
        client, urls = login_as(cast.alice), MEMBER_PAGES
    else:
        urls = ANONYMOUS_PAGES

    for url, response in pages(client, urls):
        found = tags(response.content.decode())
        assert found.scripts or found.links, url
        off_site = [s["src"] for s in found.scripts if is_third_party(s.get("src"))]
        off_site += [k["href"] for k in found.links if is_third_party(k.get("href"))]
        assert off_site == [], url


def test_the_third_party_check_recognises_other_hosts():
    assert is_third_party("https://cdn.jsdelivr.net/npm/htmx.org")
    assert is_third_party("//unpkg.com/htmx.org")
    assert not is_third_party("/static/js/app.js")
    assert not is_third_party("http://testserver/static/css/app.css")


# Caching: client data never stays in a shared or browser cache -----------------


def _firm_routes():
    return [pytest.param(route, id=name) for name, route in FIRM_ROUTES]


@pytest.mark.parametrize("route", _firm_routes())
def test_every_firm_page_is_kept_out_of_caches(cast, login_as, route):
    response = login_as(cast.alice).get(_fill(route, cast))

    assert "no-store" in response["Cache-Control"], route
    assert "private" in response["Cache-Control"], route


def test_exports_are_kept_out_of_caches(cast, login_as, jane):
    client = login_as(cast.alice)

    for url in ("/o/alpha/clients/export.csv", "/o/alpha/audit/export.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Disposition"].startswith("attachment"), url
        assert response["Cache-Control"] == "private, no-store", url


def test_portal_pages_are_kept_out_of_caches(cast, jane, client):
    joan = make_contact(jane, "Joan", "Doe", "joan@client.test")
    make_grant(joan, jane)
    signed_out = client.get("/p/alpha/")
    portal_login(client, "alpha", make_portal_account("joan@client.test", "pw"))

    assert "no-store" in signed_out["Cache-Control"]
    for url in ("/p/alpha/home/", "/p/alpha/documents/", "/p/alpha/account/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url


def test_public_brand_assets_stay_cacheable(cast, client):
    response = client.get("/brand/alpha/style.css")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=300"


def test_a_download_outside_the_firm_pages_is_kept_out_of_caches(rf):
    def view(request):
        response = HttpResponse("a,b\n", content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="x.csv"'
        response["Cache-Control"] = "public, max-age=600"
        return response

    response = NoStoreMiddleware(view)(rf.get("/elsewhere/x.csv"))

    assert response["Cache-Control"] == "private, no-store"


def test_a_firm_pages_own_cache_header_is_replaced(rf):
    def view(request):
        response = HttpResponse("<p>Jane Doe</p>")
        response["Cache-Control"] = "public, max-age=600"
        return response

    response = NoStoreMiddleware(view)(rf.get("/o/alpha/clients/"))

    assert response["Cache-Control"] == "private, no-store"


# Permissions-Policy -----------------------------------------------------------


@pytest.mark.parametrize("url", ["/accounts/login/", "/p/alpha/", "/o/alpha/"])
def test_every_page_switches_off_the_features_it_never_uses(cast, login_as, url):
    response = login_as(cast.alice).get(url, follow=True)

    policy = response.headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy, feature


def test_no_portal_page_captures_from_the_camera():
    """camera=() holds only while no upload asks the camera for a picture."""
    templates = Path(settings.BASE_DIR) / "templates"
    capturing = [
        str(path)
        for path in templates.rglob("*.html")
        if re.search(r"<input[^>]*\bcapture\b", path.read_text())
    ]
    assert capturing == []


# Content-Security-Policy reports -------------------------------------------------

REPORT_URI_BODY = {
    "csp-report": {
        "document-uri": "https://app.test/o/alpha/clients/?q=jane+doe",
        "referrer": "",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "https://evil.test/x.js?token=secret",
        "line-number": 12,
        "column-number": 7,
        "source-file": "https://app.test/static/js/app.js",
        "status-code": 200,
        "script-sample": "",
    }
}
REPORTING_API_BODY = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://app.test/p/alpha/home/",
        "user_agent": "Chrome",
        "body": {
            "documentURL": "https://app.test/p/alpha/home/",
            "effectiveDirective": "img-src",
            "blockedURL": "https://tracker.test/pixel.gif",
            "disposition": "enforce",
            "lineNumber": 3,
            "sample": "",
        },
    },
    {"type": "deprecation", "body": {"id": "x"}},
]


def _post_report(client, body, content_type="application/csp-report", **extra):
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/csp-report/", payload, content_type=content_type, **extra)


def test_the_policy_names_the_report_endpoint(db, client):
    response = client.get("/accounts/login/")

    csp = response.headers["Content-Security-Policy"]
    assert "report-uri /csp-report/" in csp
    assert "report-to csp" in csp
    assert response.headers["Reporting-Endpoints"] == 'csp="/csp-report/"'


def test_a_report_uri_report_is_recorded_without_query_strings(db, client):
    response = _post_report(client, REPORT_URI_BODY, HTTP_USER_AGENT="Firefox/140")

    assert response.status_code == 204
    (report,) = CspReport.objects.all()
    assert report.document_uri == "https://app.test/o/alpha/clients/"
    assert report.violated_directive == "script-src-elem"
    assert report.blocked_uri == "https://evil.test/x.js"
    assert report.source_file == "https://app.test/static/js/app.js"
    assert (report.line_number, report.column_number) == (12, 7)
    assert report.disposition == "enforce"
    assert report.user_agent == "Firefox/140"
    assert report.ip_address == "127.0.0.1"


def test_a_reporting_api_batch_keeps_its_csp_violations_only(db, client):
    response = _post_report(client, REPORTING_API_BODY, "application/reports+json")

    assert response.status_code == 204
    (report,) = CspReport.objects.all()
    assert report.document_uri == "https://app.test/p/alpha/home/"
    assert report.violated_directive == "img-src"
    assert report.blocked_uri == "https://tracker.test/pixel.gif"
    assert report.line_number == 3


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/csp-report", 400),
        ('{"csp-report": {}}', "text/plain", 415),
        ("x" * (17 * 1024), "application/csp-report", 413),
    ],
    ids=["broken", "wrong-type", "too-large"],
)
def test_a_bad_report_is_refused_and_nothing_stored(
    db, client, body, content_type, status
):
    assert _post_report(client, body, content_type).status_code == status
    assert not CspReport.objects.exists()


def test_the_endpoint_takes_posts_only(db, client):
    assert client.get("/csp-report/").status_code == 405


def test_one_address_cannot_flood_the_table(db, client, settings):
    settings.CSP_REPORTS_PER_MINUTE = 5
    cache.clear()

    answers = [_post_report(client, REPORT_URI_BODY).status_code for _ in range(8)]
    other = _post_report(client, REPORT_URI_BODY, REMOTE_ADDR="203.0.113.9")

    assert answers == [204] * 8  # answered alike: the browser has nothing to retry
    assert other.status_code == 204
    assert CspReport.objects.filter(ip_address="127.0.0.1").count() == 5
    assert CspReport.objects.filter(ip_address="203.0.113.9").count() == 1
    cache.clear()


def test_a_batch_stores_ten_reports_at_most(db, client):
    cache.clear()
    batch = REPORTING_API_BODY[:1] * 30

    _post_report(client, batch, "application/reports+json")

    assert CspReport.objects.count() == 10
    cache.clear()


def test_long_fields_are_cut_to_their_columns(db, client):
    cache.clear()
    long = {"csp-report": {**REPORT_URI_BODY["csp-report"]}}
    long["csp-report"]["blocked-uri"] = "https://evil.test/" + "a" * 2000
    long["csp-report"]["line-number"] = 10**12

    assert _post_report(client, long).status_code == 204
    (report,) = CspReport.objects.all()
    assert len(report.blocked_uri) == 500
    assert report.line_number is None
    cache.clear()
