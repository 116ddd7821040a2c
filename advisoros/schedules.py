"""Background schedules: each app declares its own, one command installs them.

An app lists its schedules in `<app>/schedules.py` as `SCHEDULES`, a list of
`ScheduledJob`. `manage.py setup_schedules` (advisoros.tenancy) collects them
from every installed app, so the core never names an app's jobs and no app names
another's (a lower app may not even name an upper one as a dotted string).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import NamedTuple

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import module_has_submodule

MODULE = "schedules"


class ScheduledJob(NamedTuple):
    name: str  # shown in django-q2's admin
    func: str  # dotted path; what the command keys each schedule by
    minutes: int  # runs every so many minutes


def declared_schedules() -> list[ScheduledJob]:
    """Every installed app's `SCHEDULES`, in INSTALLED_APPS order."""
    declared: list[ScheduledJob] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, MODULE):
            module = import_module(f"{config.name}.{MODULE}")
            declared.extend(module.SCHEDULES)
    funcs = [job.func for job in declared]
    if twice := sorted({f for f in funcs if funcs.count(f) > 1}):
        raise ImproperlyConfigured(f"Scheduled more than once: {', '.join(twice)}")
    return declared


def project_app_names() -> list[str]:
    """The installed apps whose code is the project's (not an installed package):
    a schedule whose function lives in one of them is ours to remove once no app
    declares it any more."""
    base = Path(settings.BASE_DIR).resolve()
    names = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and "site-packages" not in path.parts:
            names.append(config.name)
    return names
