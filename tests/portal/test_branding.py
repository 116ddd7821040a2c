"""The firm's look on the firm settings page (colour, logo, portal rules) and the
public addresses that serve it (brand_css, brand_logo)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from advisoros.audit.models import AuditAction, AuditEvent
from advisoros.tenancy.branding import (
    LOGO_MAX_BYTES,
    WHITE,
    _rgb,
    brand_palette,
    contrast,
)
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization

URL = "/o/alpha/settings/"


def _files(root: Path) -> list[Path]:
    """What the test's own file store holds (`media_root`, tests/portal/conftest.py)."""
    return sorted(p for p in root.rglob("*") if p.is_file())


def _image(kind: str, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, kind)
    return out.getvalue()


def _upload(content: bytes, name: str, content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def _data(org: Organization, **changes) -> dict:
    """The settings form as the page posts it, with `changes`."""
    data = {
        "name": org.name,
        "timezone": org.timezone,
        "session_timeout_minutes": org.session_timeout_minutes,
        "document_retention_years": org.document_retention_years,
        "brand_color": org.brand_color,
        "portal_link_days": org.portal_link_days,
    }
    data.update(changes)
    return data


def _alpha(cast) -> Organization:
    with platform_bypass():
        return Organization.objects.get(pk=cast.alpha.pk)


# Colour and portal rules -------------------------------------------------------------


def test_an_owner_sets_the_colour_the_link_days_and_client_two_factor(cast, login_as):
    response = login_as(cast.alice).post(
        URL,
        _data(
            cast.alpha,
            brand_color="#0F766E",
            portal_link_days=10,
            portal_require_two_factor="on",
        ),
    )

    assert response.status_code == 302
    org = _alpha(cast)
    assert org.brand_color == "#0f766e"
    assert org.portal_link_days == 10 and org.portal_require_two_factor
    with platform_bypass():
        event = AuditEvent.objects.get(
            organization=cast.alpha, action=AuditAction.FIRM_SETTINGS_CHANGED
        )
    assert set(event.detail["fields"]) == {
        "brand_color",
        "portal_link_days",
        "portal_require_two_factor",
    }


@pytest.mark.parametrize("colour", ["#12345", "blue", "#12345g", "1d4ed8"])
def test_a_colour_that_is_not_rrggbb_is_refused(cast, login_as, colour):
    response = login_as(cast.alice).post(URL, _data(cast.alpha, brand_color=colour))

    assert response.status_code == 200
    assert "Give a colour as #RRGGBB." in response.content.decode()
    assert _alpha(cast).brand_color == "#1d4ed8"


@pytest.mark.parametrize("days", [0, 61])
def test_link_days_stay_between_one_and_sixty(cast, login_as, days):
    response = login_as(cast.alice).post(URL, _data(cast.alpha, portal_link_days=days))

    assert response.status_code == 200 and response.context["form"].errors
    assert _alpha(cast).portal_link_days == 7


def test_the_page_previews_the_saved_colour_with_readable_text(cast, login_as):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(brand_color="#ffff00")

    html = login_as(cast.adam).get(URL).content.decode()

    preview = html.split('data-testid="brand-preview"')[1]
    palette = brand_palette("#ffff00")
    assert f'fill="{palette["brand"]}"' in preview
    assert f'fill="{palette["brand_ink"]}"' in preview
    assert f'fill="{palette["link"]}"' in preview
    assert 'type="color"' in html and 'name="brand_color"' in html


def test_managers_cannot_change_the_firms_look(cast, login_as):
    http = login_as(cast.mia)

    assert http.get(URL).status_code == 403
    assert http.post(URL, _data(cast.alpha, brand_color="#000000")).status_code == 403
    assert _alpha(cast).brand_color == "#1d4ed8"


# The logo ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg")]
)
def test_a_png_or_jpeg_logo_is_stored_and_served(
    cast, login_as, client, media_root, kind, content_type
):
    content = _image(kind)

    response = login_as(cast.alice).post(
        URL,
        {**_data(cast.alpha), "logo": _upload(content, "logo.img", content_type)},
    )

    assert response.status_code == 302
    org = _alpha(cast)
    assert org.logo.name.startswith(f"private/{org.pk}/branding/logo-")
    assert [p.read_bytes() for p in _files(media_root)] == [content]
    served = client.get("/brand/alpha/logo")
    assert served.status_code == 200
    assert served["Content-Type"] == content_type  # what the bytes are
    assert b"".join(served.streaming_content) == content
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"] == "default-src 'none'"
    with platform_bypass():
        event = AuditEvent.objects.get(
            organization=cast.alpha, action=AuditAction.FIRM_SETTINGS_CHANGED
        )
    assert event.detail["fields"] == ["logo"]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.png",
        ),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "logo.jpg"),
        (b"%PDF-1.7\n", "logo.png"),
        (b"<html><body>hi</body></html>", "logo.jpeg"),
    ],
)
def test_a_disguised_file_is_refused_and_nothing_is_stored(
    cast, login_as, media_root, content, name
):
    response = login_as(cast.alice).post(
        URL, {**_data(cast.alpha), "logo": _upload(content, name, "image/png")}
    )

    assert response.status_code == 200
    assert "This file is not a PNG or JPEG image" in response.content.decode()
    assert _alpha(cast).logo.name == ""
    assert _files(media_root) == []


def test_a_logo_over_the_limit_is_refused(cast, login_as, media_root):
    content = b"\x89PNG\r\n\x1a\n" + b"\0" * LOGO_MAX_BYTES

    response = login_as(cast.alice).post(
        URL, {**_data(cast.alpha), "logo": _upload(content, "big.png")}
    )

    assert response.status_code == 200
    assert "the limit is 512" in response.content.decode()
    assert _files(media_root) == []


def test_a_new_logo_replaces_the_old_file_once_saved(
    cast, login_as, media_root, django_capture_on_commit_callbacks
):
    http = login_as(cast.alice)
    http.post(URL, {**_data(cast.alpha), "logo": _upload(_image("PNG"), "a.png")})
    old = _alpha(cast).logo.name

    with django_capture_on_commit_callbacks(execute=True):
        http.post(
            URL, {**_data(cast.alpha), "logo": _upload(_image("PNG", "blue"), "b.png")}
        )

    new = _alpha(cast).logo.name
    assert new != old
    assert [p.relative_to(media_root).as_posix() for p in _files(media_root)] == [new]


def test_removing_the_logo_deletes_it_and_the_address_answers_404(
    cast, login_as, client, media_root, django_capture_on_commit_callbacks
):
    http = login_as(cast.alice)
    http.post(URL, {**_data(cast.alpha), "logo": _upload(_image("PNG"), "a.png")})
    assert "Remove the logo" in http.get(URL).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        http.post(URL, {**_data(cast.alpha), "remove_logo": "on"})

    assert _alpha(cast).logo.name == ""
    assert _files(media_root) == []
    assert client.get("/brand/alpha/logo").status_code == 404
    assert "Remove the logo" not in http.get(URL).content.decode()


def test_a_firm_without_a_logo_has_no_logo_address(cast, client):
    assert client.get("/brand/alpha/logo").status_code == 404
    assert client.get("/brand/nobody/logo").status_code == 404


# The public stylesheet and the palette -----------------------------------------------


def test_the_stylesheet_carries_the_firms_palette(cast, client):
    with platform_bypass():
        Organization.objects.filter(pk=cast.alpha.pk).update(brand_color="#ffff00")

    response = client.get("/brand/alpha/style.css")

    palette = brand_palette("#ffff00")
    css = response.content.decode()
    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert f"--brand:{palette['brand']}" in css
    assert f"--brand-ink:{palette['brand_ink']}" in css
    assert f"--brand-link:{palette['link']}" in css
    assert client.get("/brand/nobody/style.css").status_code == 404


def test_a_light_colour_gets_dark_ink_and_a_darker_readable_link():
    palette = brand_palette("#ffff00")

    assert palette["brand"] == "#ffff00"
    assert palette["brand_ink"] == "#111827"  # dark text on yellow
    assert contrast(_rgb(palette["brand_ink"]), _rgb("#ffff00")) >= 4.5
    assert contrast(_rgb(palette["link"]), WHITE) >= 4.5


def test_a_dark_colour_keeps_white_ink_and_itself_as_the_link():
    palette = brand_palette("#1d4ed8")

    assert palette["brand_ink"] == "#ffffff"
    assert palette["link"] == "#1d4ed8"
    assert contrast(_rgb(palette["link"]), WHITE) >= 4.5


def test_a_broken_colour_falls_back_to_the_default_palette():
    assert brand_palette("nonsense") == brand_palette("#1d4ed8")
