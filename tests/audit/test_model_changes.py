"""django-auditlog records every change with the actor and the firm, secrets masked."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from advisoros.accounts.models import User
from advisoros.audit.models import LogEntry
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Membership


def _entries_for(model) -> list[LogEntry]:
    with platform_bypass():
        return list(
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model)
            )
            .select_related("actor")
            .order_by("id")
        )


def test_a_role_change_through_the_page_is_logged_with_actor_firm_and_address(
    cast, client
):
    client.force_login(cast.alice)
    sam = cast.membership(cast.sam, cast.alpha)
    response = client.post(
        f"/o/alpha/members/{sam.uuid}/role/",
        {"role": "manager"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )
    assert response.status_code == 302
    entry = [e for e in _entries_for(Membership) if e.object_pk == str(sam.pk)][-1]
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.changes_dict["role"] == ["staff", "manager"]
    assert entry.actor == cast.alice
    assert entry.organization_id == cast.alpha.pk
    # X-Forwarded-For is written by the client unless a trusted proxy set it.
    assert entry.remote_addr == "203.0.113.7"


def test_password_hashes_are_masked_in_the_change_log(cast):
    cast.sam.set_password("another-long-password-1")
    with tenant_context(cast.alpha):
        cast.sam.save()
    entry = [e for e in _entries_for(User) if e.object_pk == str(cast.sam.pk)][-1]
    old, new = entry.changes_dict["password"]
    # The change is visible; nothing of either hash is.
    assert old == new == "••••••••"
    assert cast.sam.password[-10:] not in str(entry.changes)


def test_a_firm_sees_only_its_own_change_log(cast):
    with tenant_context(cast.beta):
        visible = set(LogEntry.objects.values_list("organization_id", flat=True))
    assert visible == {cast.beta.pk}


def test_creating_a_firm_logs_it_in_that_firms_own_history(cast):
    from advisoros.tenancy.services import organization_create

    org = organization_create(name="Gamma Tax", slug="gamma", owner=cast.sam)
    with tenant_context(org):
        models = set(LogEntry.objects.values_list("content_type__model", flat=True))
    assert {"organization", "membership"} <= models
