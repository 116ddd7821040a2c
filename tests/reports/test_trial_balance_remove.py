"""Removing a trial balance from a client's ledger: managers and up, the
snapshot and its lines go, its accounts stay for the other snapshots."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from advisoros.tenancy.db import tenant_context
from reports.models import LedgerAccount, TrialBalance, TrialBalanceLine

pytestmark = pytest.mark.django_db

BALANCES = {("1000", "Checking", "Bank"): 100, ("4000", "Sales", "Income"): -100}


def _remove(http, tb):
    return http.post(
        reverse(
            "reports:trial_balance_remove",
            kwargs={"org_slug": "alpha", "trial_balance_uuid": tb.uuid},
        )
    )


def test_a_manager_removes_a_trial_balance_and_its_lines(cast, login_as, acme, record):
    january = record(acme, date(2026, 1, 31), BALANCES)
    record(acme, date(2026, 2, 28), BALANCES)

    response = _remove(login_as(cast.mia), january)

    assert response.status_code == 302
    with tenant_context(cast.alpha):
        assert [tb.period_end for tb in TrialBalance.objects.all()] == [
            date(2026, 2, 28)
        ]
        assert TrialBalanceLine.objects.count() == 2
        assert LedgerAccount.objects.count() == 2


def test_staff_may_not_remove_one(cast, login_as, acme, record):
    january = record(acme, date(2026, 1, 31), BALANCES)

    assert _remove(login_as(cast.sam), january).status_code == 403
    with tenant_context(cast.alpha):
        assert TrialBalance.objects.count() == 1
