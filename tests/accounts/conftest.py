"""Fixtures for the accounts tests: signing in through the real form, reading audit events."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from advisoros.audit.models import AuditEvent
from advisoros.tenancy.db import platform_bypass
from advisoros.tenancy.models import Organization
from tests.conftest import PASSWORD


@pytest.fixture
def sign_in(client: Client):
    """Post the sign-in form, as a person would (unlike `login_as`, which skips it)."""

    def _sign_in(email: str, password: str = PASSWORD, **extra):
        return client.post(
            reverse("accounts:login"),
            {"username": email, "password": password},
            **extra,
        )

    return _sign_in


@pytest.fixture
def audit_actions():
    """The actions recorded in a firm's security log, oldest first."""

    def _actions(organization: Organization, **filters) -> list[str]:
        with platform_bypass():
            return list(
                AuditEvent.objects.filter(organization=organization, **filters)
                .order_by("created_at", "id")
                .values_list("action", flat=True)
            )

    return _actions
