"""axe-core (from the npm registry) in the browser tests: WCAG 2.1 AA checks of a page.

The package is fetched once into var/cache/ (pinned version, checked against the
registry's SHA-512 integrity), so the suite needs no Node.js; `axe_violations`
injects it into a Playwright page and runs it with the WCAG 2.0/2.1 A and AA rules.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import urllib.request
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_URL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
CACHE = (
    Path(__file__).resolve().parents[2]
    / "var"
    / "cache"
    / f"axe-core-{AXE_VERSION}.min.js"
)
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_source() -> str:
    if not CACHE.exists():
        with urllib.request.urlopen(AXE_URL, timeout=60) as response:  # noqa: S310 (pinned https)
            tarball = response.read()
        digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        if f"sha512-{digest}" != AXE_INTEGRITY:
            raise RuntimeError(
                f"axe-core {AXE_VERSION}: the download does not match its integrity"
            )
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            script = archive.extractfile("package/axe.min.js").read()
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_bytes(script)
    return CACHE.read_text()


def axe_violations(page) -> list[str]:
    """'rule: selector' for each node axe finds at fault on the page as it is now."""
    # Evaluated through the browser's protocol: the page's CSP (no inline
    # scripts) does not apply to it, as it would to an injected <script>.
    page.evaluate(axe_source())
    result = page.evaluate(
        "rules => axe.run(document, {runOnly: {type: 'tag', values: rules}})", RULES
    )
    return [
        f"{v['id']}: {', '.join(node['target'][0] for node in v['nodes'])}"
        for v in result["violations"]
    ]


def fit_and_accessibility_faults(page) -> list[str]:
    """What is wrong with the page as it is now: a sideways scroll, then each axe
    violation (WCAG 2.1 AA); empty when nothing is."""
    scroll, inner = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    sideways = [f"sideways scroll: {scroll} > {inner}"] if scroll > inner else []
    return sideways + axe_violations(page)


def assert_fits_and_accessible(page) -> None:
    """Nothing scrolls sideways, and axe finds nothing (WCAG 2.1 AA)."""
    found = fit_and_accessibility_faults(page)
    assert found == [], (page.url, found)
