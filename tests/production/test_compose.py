"""deploy/compose.yaml read as compose reads it (docker is not installed here,
so the file cannot be run): every variable it gives the application is one
the application reads, the services the deploy guide names exist, both job
clusters run, and the secrets go only where they belong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

yaml = pytest.importorskip("yaml")

DEPLOY = Path(settings.BASE_DIR) / "deploy"
# Read by something other than advisoros/settings.py.
READ_ELSEWHERE = {
    "Q_CLUSTER_NAME": "django-q2: which cluster a qcluster runs",
    "OMP_THREAD_LIMIT": "tesseract's threads",
    "DJANGO_SETTINGS_MODULE": "Django",
}
DATABASE_PASSWORDS = {"POSTGRES_PASSWORD", "OWNER_DB_PASSWORD", "APP_DB_PASSWORD"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _app_services(compose: dict) -> dict[str, dict]:
    """The services run from the application's image."""
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == "advisoros:latest"
    }


def _env_file(name: str) -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / name).read_text().splitlines():
        line = line.lstrip("# ").strip()
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            key, value = line.split("=", 1)
            pairs[key] = value
    return pairs


def _read_by_the_application() -> set[str]:
    names = set(READ_ELSEWHERE)
    for path in ("advisoros/settings.py", "deploy/gunicorn.conf.py"):
        text = (Path(settings.BASE_DIR) / path).read_text()
        names |= set(re.findall(r"""["']([A-Z][A-Z0-9_]{2,})["']""", text))
    return names


def test_every_variable_given_to_the_application_is_one_it_reads(compose):
    known = _read_by_the_application()
    services = _app_services(compose)
    assert {"web", "worker", "worker-ocr", "migrate"} <= set(services)

    for name, service in services.items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which nothing reads"
    unknown = set(_env_file("env.example")) - known
    assert not unknown, f"env.example sets {sorted(unknown)}, which nothing reads"


def test_no_application_container_gets_the_superuser_or_owner_password(compose):
    for name, service in _app_services(compose).items():
        assert service["env_file"] == "app.env", name
        assert not DATABASE_PASSWORDS & set(service["environment"]), name
        owner = service["environment"].get("DATABASE_OWNER_URL")
        assert owner is None or name == "migrate"
    assert not DATABASE_PASSWORDS & set(_env_file("env.example"))
    assert set(_env_file("passwords.example")) == DATABASE_PASSWORDS


def test_the_connection_pool_is_for_the_web_processes_only(compose):
    # qcluster forks its workers after its scheduler used the database.
    pooled = {
        name
        for name, service in _app_services(compose).items()
        if service["environment"].get("DB_POOL") == "true"
    }
    assert pooled == {"web"}
    assert compose["services"]["web"]["environment"]["DB_CONN_MAX_AGE"] == "0"


def test_the_worker_services_run_both_job_clusters(compose):
    clusters = {}
    for name, service in _app_services(compose).items():
        if service["command"][-1] == "qcluster":
            clusters[name] = service["environment"].get("Q_CLUSTER_NAME", "")
    # The default cluster (no name) and each of Q_CLUSTER["ALT_CLUSTERS"].
    assert sorted(clusters.values()) == sorted(
        ["", *settings.Q_CLUSTER["ALT_CLUSTERS"]]
    )
    for name in clusters:
        assert compose["services"][name]["environment"]["Q_REDIS_URL"]


def test_every_service_the_deploy_guide_names_exists(compose):
    guide = (Path(settings.BASE_DIR) / "docs" / "deploy.md").read_text()
    named = set(
        re.findall(
            r"docker compose [^`]*?\b(?:exec|run --rm|run|logs|restart|stop)"
            r" ([a-z][a-z0-9-]*)",
            guide,
        )
    )
    assert named  # the guide's commands were found
    assert named <= set(compose["services"]), named - set(compose["services"])
