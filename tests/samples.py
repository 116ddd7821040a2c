"""One row in every tenant table of a firm, for the row-level security tests.

`tests/tenancy/test_rls.py` needs rows of two firms in each table to prove one
firm cannot read or move the other's. A new tenant model adds a line here; the
RLS test names the table that has none.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.db import tenant_context
from advisoros.tenancy.models import Organization


def firm_samples(organization: Organization, user: User) -> None:
    from clients.models import (
        ClientImport,
        ClientRelationship,
        Engagement,
        EngagementType,
        Note,
        Tag,
    )
    from clients.services.clients import client_create, client_set_tags

    with tenant_context(organization):
        tag = Tag.objects.create(organization=organization, name="VIP")
        one = client_create(
            organization=organization, data={"display_name": "Sample One"}
        )
        two = client_create(
            organization=organization, data={"display_name": "Sample Two"}
        )
        client_set_tags(client=one, tags=[tag])  # ClientTag
        ClientRelationship.objects.create(
            organization=organization, from_client=one, to_client=two, kind="spouse"
        )
        from clients.models import ClientContact, Contact

        contact = Contact.objects.create(organization=organization, first_name="Pat")
        ClientContact.objects.create(
            organization=organization, client=one, contact=contact
        )
        engagement = Engagement.objects.create(
            organization=organization,
            client=one,
            name="2026 return",
            engagement_type=EngagementType.INDIVIDUAL_TAX,
            due_date=timezone.localdate() + timedelta(days=30),
        )
        Note.objects.create(
            organization=organization,
            client=one,
            engagement=engagement,
            author=user,
            body="Hi",
        )
        ClientImport.objects.create(
            organization=organization,
            created_by=user,
            filename="x.csv",
            content="a,b\n",
        )
