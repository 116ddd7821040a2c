"""deploy/systemd: the units read as systemd reads them (no systemd runs the
tests): what they let the processes write is where the settings write."""

from __future__ import annotations

import configparser
from pathlib import Path

from django.conf import settings

UNITS = Path(settings.BASE_DIR) / "deploy" / "systemd"
RELEASE = "/srv/advisoros/current"


def _service(name: str) -> configparser.SectionProxy:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string((UNITS / name).read_text())
    return unit["Service"]


def test_files_are_written_outside_the_release_and_the_guide_says_so():
    guide = (Path(settings.BASE_DIR) / "docs" / "deploy.md").read_text()
    assert "MEDIA_ROOT=/srv/advisoros/media" in guide
    for name in (
        "advisoros-web.service",
        "advisoros-worker.service",
        "advisoros-worker-ocr.service",
    ):
        service = _service(name)
        assert service["ProtectSystem"] == "strict"
        assert service["WorkingDirectory"] == RELEASE
        writable = service["ReadWritePaths"].split()
        # `-`: a folder that is absent (files in S3) does not stop the unit.
        assert writable == ["-/srv/advisoros/media"], name
