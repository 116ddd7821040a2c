"""seed_demo's clients for Demo CPA: realistic, searchable, and made only once."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization
from clients.models import (
    Client,
    ClientRelationship,
    Engagement,
    EngagementStatus,
    EntityType,
    Note,
)
from clients.services.search import clients_matching


def test_seed_demo_fills_demo_cpa_once_and_leaves_other_firms_alone(db, settings):
    settings.DEBUG = True  # seed_demo runs only in DEBUG

    call_command("seed_demo", stdout=StringIO())
    demo = Organization.objects.get(slug="demo")
    with tenant_context(demo):
        clients = list(Client.objects.all())
        codes = sorted(c.client_code for c in clients)
        call_command("seed_demo", stdout=StringIO())

        assert sorted(Client.objects.values_list("client_code", flat=True)) == codes
        assert len(clients) == 36
        assert {c.entity_type for c in clients} == set(EntityType.values)
        assert all(c.tax_id_last4 for c in clients)
        assert all(c.partner is not None for c in clients)
        assert 12 <= sum(1 for c in clients if c.staff_id) <= 24
        assert ClientRelationship.objects.filter(kind="spouse").count() == 3
        open_work = Engagement.objects.exclude(
            status__in=[EngagementStatus.COMPLETED, EngagementStatus.CANCELLED]
        )
        assert open_work.filter(due_date__lt=firm_today(demo)).exists()  # overdue
        assert Note.objects.filter(is_pinned=True).exists()
        assert Note.objects.filter(is_private=True).exists()
        assert Note.objects.filter(remind_at__isnull=False).exists()
        found = clients_matching(Client.objects.all(), "dana@brightsmile.example")
        assert [c.display_name for c in found] == ["Bright Smile Dental"]
    other = Organization.objects.get(slug="other")
    with tenant_context(other):
        assert not Client.objects.exists()
