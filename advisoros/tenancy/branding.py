"""A firm's look on the pages and emails its clients see: colour and logo.

The colour a firm picks is only a wish: text on it, and links in it, must still
read (WCAG 2.1 AA, 4.5:1). `brand_palette` keeps the hue and moves what it must.
The stylesheet and the logo are served by public addresses (a client who is not
signed in sees the firm's look on the sign-in page), never the rest of the store.
"""

from __future__ import annotations

import hashlib

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from advisoros.tenancy.models import Organization

DEFAULT_BRAND = "#1d4ed8"
LOGO_MAX_BYTES = 512 * 1024
LOGO_TYPES = {"image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8\xff"}


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (_channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


WHITE = (255, 255, 255)
INK = (17, 24, 39)


def _darken_until(rgb: tuple[int, int, int], against, ratio: float):
    while contrast(rgb, against) < ratio and any(rgb):
        rgb = tuple(max(0, int(v * 0.9)) for v in rgb)
    return rgb


def brand_palette(colour: str) -> dict[str, str]:
    """brand (buttons, header), brand_ink (text on it), link (text on white)."""
    try:
        rgb = _rgb(colour)
    except (ValueError, IndexError):
        rgb = _rgb(DEFAULT_BRAND)
    ink = WHITE if contrast(rgb, WHITE) >= contrast(rgb, INK) else INK
    return {
        "brand": _hex(rgb),
        "brand_ink": _hex(ink),
        "link": _hex(_darken_until(rgb, WHITE, 4.5)),
        "soft": _hex(tuple(int(v + (255 - v) * 0.9) for v in rgb)),
    }


@require_GET
def brand_css(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=org_slug)
    p = brand_palette(organization.brand_color)
    css = (
        f":root{{--brand:{p['brand']};--brand-ink:{p['brand_ink']};"
        f"--brand-link:{p['link']};--brand-soft:{p['soft']}}}\n"
    )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def brand_logo(request: HttpRequest, org_slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=org_slug)
    if not organization.logo:
        raise Http404("This firm has no logo.")
    try:
        handle = organization.logo.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The logo file is missing.") from exc
    # The stored name has no extension: the type is what the bytes are (only
    # PNG and JPEG are accepted on upload, by their first bytes too).
    head = handle.read(4)
    handle.seek(0)
    kind = next((t for t, magic in LOGO_TYPES.items() if head.startswith(magic)), None)
    if kind is None:
        handle.close()
        raise Http404("The logo is not an image.")
    response = FileResponse(handle, content_type=kind)
    response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def logo_version(organization: Organization) -> str:
    """Changes with the stored file, so a new logo is fetched at once."""
    return hashlib.sha256(organization.logo.name.encode()).hexdigest()[:8]
