"""The firm export's section for portal accounts (advisoros.tenancy.export).

A portal account is global (one sign-in across firms), found in a firm through
its contacts' emails. The export lists the accounts of the firm's contacts with
identifying fields only: never the password hash or the two-factor secret. The
import does not create them: a contact's account is made when they first sign
in, as for any contact.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models.functions import Lower

from advisoros.tenancy.export import PeopleSection, register_people
from advisoros.tenancy.models import Organization
from clients.models import Contact
from portal.models import PortalAccount

FIELDS = ("email", "is_active", "created_at", "last_login_at", "has_two_factor")


def portal_account_rows(organization: Organization) -> Iterator[dict]:
    emails = (
        Contact.objects.filter(organization=organization)
        .exclude(email="")
        .annotate(lower_email=Lower("email"))
        .values("lower_email")
    )
    accounts = (
        PortalAccount.objects.filter(email__in=emails)
        .order_by("email")
        .values(
            "email", "is_active", "created_at", "last_login_at", "totp_confirmed_at"
        )
    )
    for account in accounts.iterator(chunk_size=2000):
        confirmed = account.pop("totp_confirmed_at")
        yield {**account, "has_two_factor": confirmed is not None}


register_people(
    PeopleSection(name="portal_accounts", fields=FIELDS, rows=portal_account_rows)
)
