"""The apps' import direction, read from the source (docs/decisions.md, ARCHITECTURE 1).

portal -> integrations -> reports -> billing -> workflows -> documents -> clients
-> advisoros: an import points down this list only, no app imports another app's
views (shared pieces live in a selector, a service or the core), and a lower app
does not name an upper one even as a dotted string ("workflows.tasks.x" in a
schedule) or a URL name ("workflows:my_work", in Python or in a `{% url %}` tag
of the app's templates), since that is an import by another route. The walk
covers every module and template of every app, so a new one is checked without
being listed here.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first.
LAYERS = (
    "advisoros",
    "clients",
    "documents",
    "workflows",
    "billing",
    "reports",
    "integrations",
    "portal",
)
# The project's wiring names every app by design: INSTALLED_APPS, the root URLconf.
WIRING = {"advisoros/settings.py", "advisoros/settings_test.py", "advisoros/urls.py"}
DOTTED = re.compile(r"[a-z_]+(\.[A-Za-z_][A-Za-z0-9_]*)+")
URL_NAME = re.compile(r"[a-z_]+:[A-Za-z_][A-Za-z0-9_]*")
URL_TAG = re.compile(r"""\{%\s*url\s+["']([a-z_]+:[A-Za-z0-9_]*)""")
# The core's templates: the frame, the error pages and its apps' pages.
CORE_TEMPLATE_DIRS = ("partials", "tenancy", "accounts", "audit")


def _apps() -> list[str]:
    return [app for app in LAYERS if (ROOT / app).is_dir()]


def _modules(app: str) -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / app).rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name not in WIRING:
            yield name, ast.parse(path.read_text(), filename=name)


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:  # from clients import views
                yield node.lineno, f"{node.module}.{alias.name}"


def _named_strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Strings that name a module ("clients.tasks.x") or a URL ("clients:x")."""
    for node in ast.walk(tree):
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, str) and (
            DOTTED.fullmatch(value) or URL_NAME.fullmatch(value)
        ):
            yield node.lineno, value


def _templates(app: str) -> Iterator[tuple[str, str]]:
    base = ROOT / "templates"
    if app == "advisoros":
        # base_<app>.html at the top is that app's frame (base_portal.html).
        paths = [
            p for p in base.glob("*.html") if p.stem.removeprefix("base_") not in LAYERS
        ]
        for folder in CORE_TEMPLATE_DIRS:
            paths.extend((base / folder).rglob("*.html"))
    else:
        paths = [*(base / app).rglob("*.html"), *base.glob(f"base_{app}.html")]
    paths.extend((ROOT / app).rglob("*.html"))  # an app's own templates/ folder
    for path in sorted(paths):
        yield path.relative_to(ROOT).as_posix(), path.read_text()


def _url_tags(text: str) -> Iterator[tuple[int, str]]:
    for found in URL_TAG.finditer(text):
        yield text.count("\n", 0, found.start()) + 1, found.group(1)


def _app_of(name: str) -> str:
    """The app a module path or a URL name belongs to."""
    return re.split(r"[.:]", name, maxsplit=1)[0]


def _is_views(dotted: str) -> bool:
    parts = dotted.split(".")
    return len(parts) > 1 and parts[1] == "views"


@pytest.mark.parametrize("app", _apps())
def test_no_app_imports_another_apps_views(app):
    found = [
        f"{name}:{line} imports {module}"
        for name, tree in _modules(app)
        for line, module in _imports(tree)
        if _app_of(module) in LAYERS and _app_of(module) != app and _is_views(module)
    ]
    assert found == []


@pytest.mark.parametrize("app", _apps())
def test_a_lower_app_never_names_an_upper_one(app):
    upper = set(LAYERS[LAYERS.index(app) + 1 :])
    found = [
        f"{name}:{line} names {dotted}"
        for name, tree in _modules(app)
        for line, dotted in [*_imports(tree), *_named_strings(tree)]
        if _app_of(dotted) in upper
    ]
    assert found == []


@pytest.mark.parametrize("app", _apps())
def test_a_lower_apps_templates_never_link_to_an_upper_one(app):
    upper = set(LAYERS[LAYERS.index(app) + 1 :])
    found = [
        f"{name}:{line} names {url_name}"
        for name, text in _templates(app)
        for line, url_name in _url_tags(text)
        if _app_of(url_name) in upper
    ]
    assert found == []


def test_the_walk_sees_a_violation():
    """The checks above would catch the import this issue removed, and the URL
    names the core's navigation and dashboard held before each app declared its
    own (advisoros/nav.py)."""
    tree = ast.parse(
        "from clients.views.client_detail import firm_time\n"
        'TASK = "workflows.tasks.recurring_executions_run"\n'
        'NAV = [("my_work", "My work", "workflows:my_work")]\n'
    )
    assert any(_is_views(m) for _, m in _imports(tree))
    assert [s for _, s in _named_strings(tree)] == [
        "workflows.tasks.recurring_executions_run",
        "workflows:my_work",
    ]
    template = "<p>\n<a href=\"{% url 'documents:review_queue' org_slug=s %}\">"
    assert list(_url_tags(template)) == [(2, "documents:review_queue")]
