"""Security headers: a nonce-based Content-Security-Policy, no framing, no CDNs.

The policy only protects if the pages keep to it: every <script> must be an
external file from our own origin or carry the response's nonce, and no page may
pull a script or stylesheet from another host.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

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
