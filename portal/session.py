"""Who is in the portal, for this firm: `request.portal` (set by portal.middleware).

The portal keeps its own keys in the session, apart from Django's login: a staff
sign-in never opens the portal, and a portal sign-in is never a staff login, even
for one person who is both. Two ways in, which may coexist in one session:

- an account sign-in (`PORTAL_KEY`): in every firm, the contact with the
  account's email sees the clients its active grants name, with their
  capabilities (one sign-in, several firms: the firms page switches between
  them; each firm's own rules apply: its idle timeout, its two-factor demand);
- redeemed request links (`LINKS_KEY`, per firm): each opens its own request's
  items, nothing else.

Grants and links are read again on every request, so a revocation takes effect
on the contact's next click.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db.models import Model
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils import timezone

from advisoros.tenancy.models import Organization
from clients.models import Client, Contact
from portal.models import Capability, PortalAccount, PortalGrant, RequestLink

PORTAL_KEY = "portal"
LINKS_KEY = "portal_links"
MAX_LINKS_PER_FIRM = 20

M = TypeVar("M", bound=Model)  # a row of one of the session's clients


@dataclass
class PortalSession:
    organization: Organization
    account: PortalAccount | None = None
    contact: Contact | None = None
    grants: dict[int, PortalGrant] = field(default_factory=dict)  # by client id
    links: dict[int, RequestLink] = field(default_factory=dict)  # by request id
    needs_second_factor: bool = False
    timed_out: bool = False

    @property
    def signed_in(self) -> bool:
        """A full sign-in with at least one client of this firm, second factor done."""
        return (
            self.account is not None
            and bool(self.grants)
            and not self.needs_second_factor
        )

    @property
    def has_any_access(self) -> bool:
        return self.signed_in or bool(self.links)

    def clients(self, capability: Capability | str | None = None) -> list[Client]:
        return [
            g.client
            for g in self.grants.values()
            if capability is None or g.allows(capability)
        ]

    def with_clients(self, rows: Iterable[M]) -> list[M]:
        """`rows` (of this session's clients) with their `client` set from the
        grants, which hold them already: cheaper than joining the wide client
        row again."""
        rows = list(rows)
        for row in rows:
            row.client = self.grants[row.client_id].client
        return rows

    @property
    def sees_invoices(self) -> bool:
        """Whether any grant shows invoices (the nav's Invoices entry)."""
        return any(g.allows(Capability.VIEW_INVOICES) for g in self.grants.values())

    def client_ids(self, capability: Capability | str | None = None) -> list[int]:
        return [c.pk for c in self.clients(capability)]

    def grant_for(
        self, client_id: int, capability: Capability | str | None = None
    ) -> PortalGrant | None:
        if not self.signed_in:
            return None
        grant = self.grants.get(client_id)
        if grant is None or (capability is not None and not grant.allows(capability)):
            return None
        return grant

    def link_for(self, request_id: int) -> RequestLink | None:
        return self.links.get(request_id)

    @property
    def actor_contact(self) -> Contact | None:
        """Who acts: the signed-in contact (a link's contact is on the link)."""
        return self.contact if self.signed_in else None


def load_portal_session(
    request: HttpRequest, organization: Organization
) -> PortalSession:
    """Read the session's account and links for this firm (inside its tenant context)."""
    portal = PortalSession(organization=organization)
    data = request.session.get(PORTAL_KEY)
    if data:
        _load_account(request, portal, data)
    link_ids = request.session.get(LINKS_KEY, {}).get(str(organization.pk), [])
    if link_ids:
        now = timezone.now()
        links = (
            RequestLink.objects.filter(
                organization=organization,
                pk__in=link_ids,
                revoked_at__isnull=True,
                expires_at__gt=now,
                request__status="open",
            )
            .select_related("request", "request__client", "contact")
            .order_by("pk")
        )
        portal.links = {link.request_id: link for link in links}
    return portal


def _load_account(request: HttpRequest, portal: PortalSession, data: dict) -> None:
    organization = portal.organization
    timeout = organization.session_timeout_minutes * 60
    seen = data.get("seen", 0)
    now = time.time()
    if now - seen > timeout:
        portal.timed_out = True
        request.session.pop(PORTAL_KEY, None)
        return
    account = PortalAccount.objects.filter(
        pk=data.get("account"), is_active=True
    ).first()
    if account is None:
        request.session.pop(PORTAL_KEY, None)
        return
    if now - seen > 60:  # write the session at most once a minute
        data["seen"] = now
        request.session[PORTAL_KEY] = data
    portal.account = account
    grants = list(
        PortalGrant.objects.alias(email_lower=Lower("contact__email"))
        .filter(
            organization=organization,
            email_lower=account.email,
            revoked_at__isnull=True,
            client__archived_at__isnull=True,
        )
        .select_related("contact", "client")
        # Never shown in the portal: not decrypted on every page.
        .defer("client__tax_id")
        .order_by("client__sort_name", "client_id")
    )
    if not grants:
        return  # signed in, but this firm gave the email no access
    portal.contact = grants[0].contact
    portal.grants = {g.client_id: g for g in grants}
    needs = organization.portal_require_two_factor or account.has_two_factor
    portal.needs_second_factor = needs and not data.get("verified", False)


def portal_sign_in(request: HttpRequest, account: PortalAccount) -> None:
    """Start an account session (a new session key: no fixation).

    "verified" records that an authenticator code was given in this session: a
    firm that asks for one, or an account that has one, opens only after
    `portal_mark_verified` (a firm that asks for none opens at once).
    """
    request.session.cycle_key()
    request.session[PORTAL_KEY] = {
        "account": account.pk,
        "verified": False,
        "seen": time.time(),
    }


def portal_mark_verified(request: HttpRequest) -> None:
    data = request.session.get(PORTAL_KEY) or {}
    data["verified"] = True
    data["seen"] = time.time()
    request.session.cycle_key()
    request.session[PORTAL_KEY] = data


def portal_sign_out(request: HttpRequest) -> None:
    request.session.pop(PORTAL_KEY, None)
    request.session.pop(LINKS_KEY, None)
    request.session.cycle_key()


def portal_remember_link(request: HttpRequest, link: RequestLink) -> None:
    links = dict(request.session.get(LINKS_KEY, {}))
    ids = [i for i in links.get(str(link.organization_id), []) if i != link.pk]
    ids.append(link.pk)
    links[str(link.organization_id)] = ids[-MAX_LINKS_PER_FIRM:]
    request.session[LINKS_KEY] = links
