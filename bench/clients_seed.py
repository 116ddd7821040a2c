"""Bulk clients for the benchmark: a big firm's clients, contacts, engagements and notes, fast.

`manage.py seed_bench` and the clients' bench seeder (bench/clients.py) call
`seed_clients`. It runs inside the firm's tenant_context and inserts through
`bench.harness.copy_rows` (COPY into a temporary table, then INSERT ...
SELECT), so row-level security checks every row. The audit log is skipped:
these rows are nobody's changes. The content is varied but reproducible (a
random generator seeded by the firm and the number of clients it had): people
and company names, every entity type, statuses with about 5% archived, unique
client codes as the service would suggest them, encrypted tax ids with their
last four digits, assignments over the firm's members, tags, contacts with
emails unique in the firm, engagements, notes and the search tokens of
`clients.services.search.client_tokens`.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone

from advisoros.crypto import encrypt
from advisoros.tenancy.dbroles import statistics_refresh
from advisoros.tenancy.models import Membership, Organization, Role
from bench.harness import copy_rows, reserve_ids
from clients.fake import fake_tax_id
from clients.models import (
    Client,
    ClientCodes,
    ClientContact,
    ClientSearchToken,
    ClientStatus,
    ClientTag,
    Contact,
    ContactRole,
    Engagement,
    EngagementStatus,
    EngagementType,
    EntityType,
    FeeModel,
    Note,
    NoteType,
    Priority,
    RiskLevel,
    Tag,
)
from clients.services.search import client_tokens, fold

CHUNK = 10_000


def _split(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _split("""
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy
Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Paul Emily
Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah
Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Kathleen
Jacob Amy Gary Angela Nicholas Shirley Eric Brenda Jonathan Emma Stephen Anna Larry
Pamela Justin Nicole Scott Samantha Brandon Katherine Benjamin Christine Samuel Helen
Gregory Debra Alexander Rachel Patrick Carolyn Frank Janet Raymond Maria Jack Catherine
Dennis Heather Jerry Diane Tyler Olivia Aaron Julie Jose Joyce Adam Victoria Nathan
Ruth Henry Virginia Zachary Lauren Douglas Kelly Peter Christina Kyle Joan Noah Evelyn
Ethan Judith Jeremy Andrea Walter Hannah Christian Megan Keith Cheryl Roger Jacqueline
Terry Martha Austin Madison Sean Teresa Gerald Gloria Carl Sara Harold Janice Dylan
Ann Arthur Kathryn Lawrence Abigail Jordan Sophia Jesse Frances Bryan Jean Billy Alice
Bruce Judy Gabriel Isabella Joe Julia Logan Grace Alan Amber Juan Denise Albert Danielle
Willie Marilyn Elijah Beverly Wayne Charlotte Randy Natalie Vincent Theresa Mason Diana
Roy Brittany Ralph Doris Bobby Kayla Russell Alexis Bradley Lori Philip Marie Eugene
Priya Wei Mei Hiroshi Yuki Ahmed Fatima Omar Aisha Carlos Lucia Diego Sofia Mateo Elena
Ivan Olga Dmitri Anya Raj Anika Chen Ling Kwame Ama Tariq Leila José Zoë Renée André
""")

# Roughly by frequency: the generator favours the front of the list (Zipf-like).
LAST_NAMES = _split("""
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez
Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson
White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott
Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter
Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart
Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed
Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray
Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez
Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales
Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds
Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar
Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington
Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson
Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks Holmes Palmer
Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt
Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn
Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight
Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray
Delgado Berry Perkins Hoffman Johnston Matthews Peña Richards Willis Carpenter Lawrence
Sandoval Guerrero George Chapman Rios Estrada Ortega Watkins Greene Nuñez Wheeler
Valdez Harper Burke Larson Santiago Maldonado Morrison Franklin Carlson Austin
Dominguez Carr Lawson Jacobs O'Brien Lynch Singh Vega Bishop Montgomery Oliver Jensen
Harvey Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid Hanson Le McCoy Garrett
Burton Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang Little Banks Padilla
Day Walsh Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May Holland Juarez
Newman Pearson Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa Keller
Ávila Wade Molina Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert
Miranda Byrd Craig Ayala Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton
Fleming Rhodes Shelton Schwartz Norris Jennings Watts Duran Walters Cohen McDaniel
Moran Parks Steele Vaughn Becker Holt DeLeon Barker Terry Hale Leon Benson Haynes
Horton Miles Lyons Pham Graves Bush Thornton Wolfe Warner Cabrera McKinney Mann
Zimmerman Dawson Lara Fletcher Page McCarthy Love Robles Cervantes Solis Erickson Reeves
Chang Klein Salinas Fuentes Baldwin Simon Velasquez Hardy Higgins Aguirre Lin Cummings
Chandler Sharp Barber Bowen Ochoa Dennis Robbins Liu Ramsey Francis Griffith Blair
O'Connor Cardenas Pacheco Cross Calderon Quinn Moss Swanson Chan Rivas Khan Rodgers
Serrano Fitzgerald Rosales Stevenson Christensen Manning Gill Curry McLaughlin Harmon
Smithson Smiley Smythe Okonkwo Nakamura Kowalski Lindqvist Haddad Novak Rossi Müller
""")

SURNAME_STARTS = _split("""
Al Bar Bel Ber Bran Cal Car Dal Dor El Fal Fen Gar Hal Har Hol Kel Ken Lan Mar Mor
Nor Ol Pem Ral Ros Sal Stan Tal Thor Val Wal Wes Win Yar Zel Ash Brook Crom Dun
""")
SURNAME_ENDS = _split("""
berg bourne by dale den field ford gate ham holt ington ley lund man mont more ner
ova rick sen son stead ton vik well wick worth zer
""")
BUSINESS_WORDS = _split("""
Riverside Summit Harbor Pinecrest Oakwood Lakeside Evergreen Granite Northstar Bluewater
Redwood Highland Meadow Silverline Keystone Cornerstone Bright Prairie Coastal Golden
Maple Cedar Ironwood Sterling Liberty Pioneer Heritage Crescent Beacon Horizon Atlas
Union Metro Valley Canyon Willow Juniper Falcon Eagle Frontier Apex Vantage Copper
""")
TRADES = _split("""
Dental Plumbing Roofing Landscaping Bakery Consulting Design Logistics Auto Electric
Construction Realty Properties Capital Ventures Holdings Marketing Software Media Studio
Fitness Veterinary Pharmacy Cafe Brewing Farms Orchards Imports Outfitters Cleaning
Engineering Architecture Therapy Medical Law Insurance Printing Catering Salon Motors
""")
INDUSTRIES = [
    "Construction",
    "Real estate",
    "Healthcare",
    "Restaurants",
    "Retail",
    "Professional services",
    "Technology",
    "Manufacturing",
    "Agriculture",
    "Nonprofit",
    "Transportation",
    "Hospitality",
]
PLACES = [
    ("New York", "NY", "100"),
    ("Brooklyn", "NY", "112"),
    ("Albany", "NY", "122"),
    ("Newark", "NJ", "071"),
    ("Hoboken", "NJ", "070"),
    ("Philadelphia", "PA", "191"),
    ("Pittsburgh", "PA", "152"),
    ("Boston", "MA", "021"),
    ("Hartford", "CT", "061"),
    ("Baltimore", "MD", "212"),
    ("Arlington", "VA", "222"),
    ("Charlotte", "NC", "282"),
    ("Atlanta", "GA", "303"),
    ("Miami", "FL", "331"),
    ("Orlando", "FL", "328"),
    ("Nashville", "TN", "372"),
    ("Chicago", "IL", "606"),
    ("Columbus", "OH", "432"),
    ("Detroit", "MI", "482"),
    ("Minneapolis", "MN", "554"),
    ("Austin", "TX", "787"),
    ("Houston", "TX", "770"),
    ("Dallas", "TX", "752"),
    ("Denver", "CO", "802"),
    ("Phoenix", "AZ", "850"),
    ("Salt Lake City", "UT", "841"),
    ("Seattle", "WA", "981"),
    ("Portland", "OR", "972"),
    ("San Diego", "CA", "921"),
    ("San José", "CA", "951"),
    ("Los Angeles", "CA", "900"),
]
STREETS = _split("""
Main Oak Pine Maple Cedar Elm Washington Lake Hill Park Walnut Spring Ridge Church
Willow Highland Sunset Jackson Franklin Lincoln Madison Chestnut River Mill
""")
STREET_KINDS = ["St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way"]
PERSONAL_DOMAINS = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "hotmail.com",
    "aol.com",
    "proton.me",
    "comcast.net",
]
TITLES = [
    "Owner",
    "President",
    "CEO",
    "CFO",
    "Controller",
    "Office manager",
    "Bookkeeper",
    "Treasurer",
    "Managing member",
    "Executive director",
]
TAG_NAMES = [
    ("VIP", "#b45309"),
    ("Extension filed", "#2563eb"),
    ("Payroll", "#059669"),
    ("Bookkeeping", "#7c3aed"),
    ("New client", "#0891b2"),
    ("Referral", "#db2777"),
    ("Multi-state", "#4d7c0f"),
    ("Crypto", "#ea580c"),
    ("Rental property", "#64748b"),
    ("Quarterly estimates", "#0f766e"),
    ("Paperless", "#475569"),
    ("Audit risk", "#dc2626"),
]
NOTE_BODIES = {
    NoteType.GENERAL: [
        "Prefers email over phone. Documents usually arrive in late March.",
        "Moved to a new address this year; update the organizer.",
        "Asked about the home office deduction again.",
        "Bank statements come through the portal every month.",
        "Has a rental property since last spring: depreciation schedule needed.",
    ],
    NoteType.CALL: [
        "Called about the estimated payments for next quarter.",
        "Left a voicemail about the missing 1099-B.",
        "Discussed the timing of the equipment purchase.",
        "Asked whether the extension was filed. Confirmed it was.",
    ],
    NoteType.MEETING: [
        "Year-end planning meeting: retirement contributions and bonus timing.",
        "Met to review the draft return; two open questions on K-1s.",
        "Kick-off meeting for the bookkeeping clean-up.",
    ],
    NoteType.EMAIL: [
        "Sent the organizer and the engagement letter.",
        "Emailed the list of missing documents.",
        "Forwarded the IRS notice; reply due in 30 days.",
    ],
    NoteType.REMINDER: [
        "Follow up on the signed 8879.",
        "Check that the Q3 estimate was paid.",
        "Ask for the updated payroll register.",
    ],
}

ENTITY_WEIGHTS = [
    (EntityType.INDIVIDUAL, 58),
    (EntityType.SOLE_PROPRIETORSHIP, 8),
    (EntityType.LLC, 12),
    (EntityType.S_CORP, 8),
    (EntityType.C_CORP, 4),
    (EntityType.PARTNERSHIP, 4),
    (EntityType.NONPROFIT, 3),
    (EntityType.TRUST_ESTATE, 3),
]
STATUS_WEIGHTS = [
    (ClientStatus.ACTIVE, 72),
    (ClientStatus.PROSPECT, 12),
    (ClientStatus.INACTIVE, 11),
    (ClientStatus.ARCHIVED, 5),
]
RISK_WEIGHTS = [(RiskLevel.LOW, 70), (RiskLevel.MEDIUM, 24), (RiskLevel.HIGH, 6)]
NOTE_WEIGHTS = [
    (NoteType.GENERAL, 40),
    (NoteType.CALL, 25),
    (NoteType.MEETING, 15),
    (NoteType.EMAIL, 15),
    (NoteType.REMINDER, 5),
]
PRIORITY_WEIGHTS = [
    (Priority.NORMAL, 70),
    (Priority.LOW, 10),
    (Priority.HIGH, 15),
    (Priority.URGENT, 5),
]
BUSINESS_FORMS = {
    EntityType.S_CORP: "1120-S",
    EntityType.C_CORP: "1120",
    EntityType.PARTNERSHIP: "1065",
    EntityType.LLC: "1065",
    EntityType.NONPROFIT: "990",
    EntityType.TRUST_ESTATE: "1041",
}
BUSINESS_SERVICES = [
    EngagementType.BOOKKEEPING,
    EngagementType.PAYROLL,
    EngagementType.ADVISORY,
    EngagementType.REVIEW,
    EngagementType.COMPILATION,
    EngagementType.AUDIT,
]

CLIENT_COLUMNS = [
    "id",
    "organization_id",
    "created_at",
    "client_code",
    "display_name",
    "legal_name",
    "sort_name",
    "entity_type",
    "status",
    "risk_level",
    "industry",
    "fiscal_year_end_month",
    "fiscal_year_end_day",
    "tax_id",
    "tax_id_last4",
    "email",
    "phone",
    "website",
    "address_line1",
    "city",
    "region",
    "postal_code",
    "partner_id",
    "manager_id",
    "staff_id",
    "archived_at",
]
CONTACT_COLUMNS = [
    "id",
    "organization_id",
    "created_at",
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
]
LINK_COLUMNS = ["organization_id", "created_at", "client_id", "contact_id", "role"]
ENGAGEMENT_COLUMNS = [
    "id",
    "organization_id",
    "created_at",
    "client_id",
    "name",
    "engagement_type",
    "tax_year",
    "period_start",
    "period_end",
    "status",
    "priority",
    "start_date",
    "due_date",
    "completed_date",
    "fee_model",
    "hourly_rate",
    "fee_amount",
    "budgeted_hours",
    "partner_id",
    "manager_id",
    "preparer_id",
    "reviewer_id",
]
NOTE_COLUMNS = [
    "organization_id",
    "created_at",
    "client_id",
    "engagement_id",
    "author_id",
    "note_type",
    "body",
    "is_private",
    "is_pinned",
    "remind_at",
    "reminded_at",
]
TAG_LINK_COLUMNS = ["organization_id", "created_at", "client_id", "tag_id"]
TOKEN_COLUMNS = ["organization_id", "client_id", "token", "sort_name", "archived"]


@dataclass
class SeedResult:
    clients: int = 0
    contacts: int = 0
    engagements: int = 0
    notes: int = 0
    tokens: int = 0
    seconds: float = 0.0


def _weighted(pairs):
    values = [v for v, _ in pairs]
    cum_weights = list(itertools.accumulate(w for _, w in pairs))

    def pick(rng: random.Random, k: int = 1):
        return rng.choices(values, cum_weights=cum_weights, k=k)

    return pick


_entity = _weighted(ENTITY_WEIGHTS)
_status = _weighted(STATUS_WEIGHTS)
_risk = _weighted(RISK_WEIGHTS)
_note_type = _weighted(NOTE_WEIGHTS)
_priority = _weighted(PRIORITY_WEIGHTS)
_LAST_CUM = list(
    itertools.accumulate(1 / (rank + 20) for rank in range(len(LAST_NAMES)))
)
_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass
class _Firm:
    """What the generator draws from and must keep unique across the firm."""

    organization: Organization
    rng: random.Random
    partners: list[int]
    managers: list[int]
    staff: list[int]
    everyone: list[int]
    tags: list[int]
    codes: ClientCodes
    emails: set[str] = field(default_factory=set)
    email_next: dict[str, int] = field(default_factory=dict)

    def last_name(self) -> str:
        # Common surnames two times in three (Smith about 1.2%, near the US
        # census's 0.8%), otherwise one of a thousand rarer ones.
        if self.rng.random() < 0.65:
            return self.rng.choices(LAST_NAMES, cum_weights=_LAST_CUM)[0]
        return self.rng.choice(SURNAME_STARTS) + self.rng.choice(SURNAME_ENDS)

    def first_name(self) -> str:
        return self.rng.choice(FIRST_NAMES)

    def email(self, first: str, last: str, domain: str) -> str:
        local = _ALNUM.sub(".", fold(f"{first} {last}")).strip(".")
        base = f"{local}@{domain}"
        n = self.email_next.get(base, 1)
        email = base if n == 1 else f"{local}{n}@{domain}"
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{domain}"
        self.email_next[base] = n + 1
        self.emails.add(email)
        return email

    def phone(self) -> str:
        r = self.rng
        return f"({r.randint(201, 989)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}"


def _firm(organization: Organization, rng: random.Random) -> _Firm:
    members = list(
        Membership.objects.filter(
            organization=organization, is_active=True
        ).values_list("user_id", "role")
    )
    if not members:
        raise ValueError(f"{organization.slug} has no members to assign clients to.")
    everyone = [u for u, _ in members]
    partners = [u for u, r in members if r in (Role.OWNER, Role.ADMIN)] or everyone
    managers = [u for u, r in members if r == Role.MANAGER] or partners
    staff = [u for u, r in members if r == Role.STAFF] or everyone
    existing_tags = {
        name.lower(): pk
        for pk, name in Tag.objects.filter(organization=organization).values_list(
            "pk", "name"
        )
    }
    new_tags = [
        Tag(organization=organization, name=name, color=color)
        for name, color in TAG_NAMES
        if name.lower() not in existing_tags
    ]
    Tag.objects.bulk_create(new_tags)
    tags = [*existing_tags.values(), *(t.pk for t in new_tags)]
    codes = ClientCodes.of_firm(organization.pk)
    emails = {
        e.lower()
        for e in Contact.objects.filter(organization=organization)
        .exclude(email="")
        .values_list("email", flat=True)
    }
    return _Firm(
        organization=organization,
        rng=rng,
        partners=partners,
        managers=managers,
        staff=staff,
        everyone=everyone,
        tags=tags,
        codes=codes,
        emails=emails,
    )


def _business_name(f: _Firm, entity_type: str) -> tuple[str, str, str]:
    """(display name, legal name, web domain)."""
    r = f.rng
    if entity_type == EntityType.TRUST_ESTATE:
        last = f.last_name()
        if r.random() < 0.5:
            name = f"The {last} Family Trust"
        else:
            name = f"Estate of {f.first_name()} {last}"
        return name, name, ""
    style = r.random()
    if style < 0.4:
        stem = f"{f.last_name()} {r.choice(TRADES)}"
    elif style < 0.55:
        stem = f"{f.last_name()} & {f.last_name()}"
    else:
        stem = f"{r.choice(BUSINESS_WORDS)} {r.choice(TRADES)}"
    suffix = {
        EntityType.LLC: "LLC",
        EntityType.S_CORP: r.choice(["Inc.", "Corp."]),
        EntityType.C_CORP: r.choice(["Inc.", "Corporation"]),
        EntityType.PARTNERSHIP: r.choice(["Partners", "LP", "LLP"]),
        EntityType.NONPROFIT: r.choice(["Foundation", "Association", "Society"]),
    }.get(entity_type, "")
    display = f"{stem} {suffix}".strip()
    legal = f"{stem}, {suffix}" if suffix in ("LLC", "Inc.", "Corp.", "LP") else display
    domain = _ALNUM.sub("", fold(stem)) + r.choice([".com", ".com", ".net", ".org"])
    return display, legal, domain


def _make_clients(f: _Firm, ids: list[int], now: datetime) -> tuple[list, list]:
    """Client rows for COPY, and light objects for contacts and search tokens."""
    r = f.rng
    org_id = f.organization.pk
    rows, plain = [], []
    for client_id, entity_type, status, risk in zip(
        ids, _entity(r, len(ids)), _status(r, len(ids)), _risk(r, len(ids)), strict=True
    ):
        person = EntityType(entity_type).is_person
        first = last = domain = ""
        if entity_type == EntityType.INDIVIDUAL:
            first, last = f.first_name(), f.last_name()
            display, legal = f"{first} {last}", ""
        elif entity_type == EntityType.SOLE_PROPRIETORSHIP:
            first, last = f.first_name(), f.last_name()
            display = f"{first} {last}"
            legal = f"{first} {last} dba {last} {r.choice(TRADES)}"
        else:
            display, legal, domain = _business_name(f, entity_type)
        created = now - timedelta(seconds=r.randint(0, 6 * 365 * 86400))
        tax_id = (
            ""
            if r.random() < 0.08
            else fake_tax_id(r, person=person and r.random() < 0.95)
        )
        city, region, zip3 = r.choice(PLACES)
        fye = (
            (12, 31)
            if person or r.random() < 0.8
            else r.choice([(3, 31), (6, 30), (9, 30)])
        )
        # The fields the model derives (sort name, code, last four), as the
        # service and the import have them.
        derived = Client(display_name=display, entity_type=entity_type, tax_id=tax_id)
        derived.derive_fields(f.codes)
        client = SimpleNamespace(
            pk=client_id,
            entity_type=entity_type,
            display_name=display,
            legal_name=legal,
            client_code=derived.client_code,
            email="",
            tax_id_last4=derived.tax_id_last4,
            first=first,
            last=last,
            domain=domain,
            created=created,
            partner=r.choice(f.partners) if r.random() < 0.95 else None,
            manager=r.choice(f.managers) if r.random() < 0.85 else None,
            staff=r.choice(f.staff) if r.random() < 0.75 else None,
            sort_name=derived.sort_name,
            archived=status == ClientStatus.ARCHIVED,
        )
        if person and r.random() < 0.7:
            client.email = f.email(first, last, r.choice(PERSONAL_DOMAINS))
        elif domain:
            client.email = f.email("info", "", domain)
        plain.append(client)
        rows.append(
            (
                client_id,
                org_id,
                created,
                client.client_code,
                display,
                legal,
                client.sort_name,
                entity_type,
                status,
                risk,
                "" if person else r.choice(INDUSTRIES),
                fye[0],
                fye[1],
                encrypt(tax_id) if tax_id else "",
                client.tax_id_last4,
                client.email,
                f.phone(),
                f"https://www.{domain}" if domain else "",
                f"{r.randint(1, 9999)} {r.choice(STREETS)} {r.choice(STREET_KINDS)}",
                city,
                region,
                f"{zip3}{r.randint(0, 99):02d}",
                client.partner,
                client.manager,
                client.staff,
                created + (now - created) * r.random()
                if status == ClientStatus.ARCHIVED
                else None,
            )
        )
    return rows, plain


def _make_contacts(
    f: _Firm, clients: list, per_client: int, ids: list[int]
) -> tuple[list, list, dict]:
    r = f.rng
    org_id = f.organization.pk
    ids = iter(ids)
    contact_rows, link_rows, by_client = [], [], {}
    for client in clients:
        people = []
        for i in range(per_client):
            if client.entity_type == EntityType.INDIVIDUAL:
                first = client.first if i == 0 else f.first_name()
                last = client.last if i < 2 else f.last_name()
                role = (
                    [ContactRole.PRIMARY, ContactRole.SPOUSE][i]
                    if i < 2
                    else (ContactRole.OTHER)
                )
                domain, title = r.choice(PERSONAL_DOMAINS), ""
            else:
                same = i == 0 and client.first
                first = client.first if same else f.first_name()
                last = client.last if same else f.last_name()
                role = [ContactRole.PRIMARY, ContactRole.BILLING, ContactRole.OFFICER][
                    min(i, 2)
                ]
                domain = client.domain or r.choice(PERSONAL_DOMAINS)
                title = r.choice(TITLES)
            email = "" if r.random() < 0.04 else f.email(first, last, domain)
            contact = SimpleNamespace(
                pk=next(ids), first_name=first, last_name=last, email=email
            )
            people.append(contact)
            contact_rows.append(
                (
                    contact.pk,
                    org_id,
                    client.created,
                    first,
                    last,
                    email,
                    f.phone() if r.random() < 0.8 else "",
                    title,
                )
            )
            link_rows.append((org_id, client.created, client.pk, contact.pk, role))
        by_client[client.pk] = people
    return contact_rows, link_rows, by_client


def _make_engagements(
    f: _Firm, clients: list, per_client: int, year: int, ids: list[int]
) -> list:
    r = f.rng
    org_id = f.organization.pk
    ids = iter(ids)
    rows = []
    for client in clients:
        person = EntityType(client.entity_type).is_person
        for i in range(per_client):
            tax_year = year - 1 - i
            if i == 0 or r.random() < 0.6:
                if person:
                    kind, form = EngagementType.INDIVIDUAL_TAX, "Form 1040"
                else:
                    kind = EngagementType.BUSINESS_TAX
                    form = f"Form {BUSINESS_FORMS.get(client.entity_type, '1120')}"
                name = f"{tax_year} {form}"
                extended = r.random() < 0.3
                due = (
                    date(tax_year + 1, 10, 15)
                    if extended
                    else date(tax_year + 1, 4, 15)
                )
                period = (None, None)
            else:
                kind = (
                    r.choice(BUSINESS_SERVICES)
                    if not person
                    else (EngagementType.ADVISORY)
                )
                name = f"{tax_year} {EngagementType(kind).label.lower()}".capitalize()
                due = date(tax_year + 1, 1, 31) + timedelta(days=r.randint(0, 120))
                period = (date(tax_year, 1, 1), date(tax_year, 12, 31))
            if tax_year >= year - 1:
                status = r.choices(
                    [
                        EngagementStatus.PLANNING,
                        EngagementStatus.IN_PROGRESS,
                        EngagementStatus.REVIEW,
                        EngagementStatus.ON_HOLD,
                        EngagementStatus.COMPLETED,
                    ],
                    [25, 35, 15, 5, 20],
                )[0]
            else:
                status = r.choices(
                    [
                        EngagementStatus.COMPLETED,
                        EngagementStatus.CANCELLED,
                        EngagementStatus.ON_HOLD,
                    ],
                    [90, 5, 5],
                )[0]
            start = date(tax_year + 1, 1, 2) + timedelta(days=r.randint(0, 60))
            completed = (
                due - timedelta(days=r.randint(0, 60))
                if status == EngagementStatus.COMPLETED
                else None
            )
            fee = r.choices(
                [FeeModel.FIXED, FeeModel.HOURLY, FeeModel.RETAINER], [60, 25, 15]
            )[0]
            rate = (
                Decimal(r.randrange(125, 400, 25)) if fee == FeeModel.HOURLY else None
            )
            amount = (
                None if fee == FeeModel.HOURLY else Decimal(r.randrange(350, 25000, 50))
            )
            hours = Decimal(r.randint(2, 120)) if r.random() < 0.6 else None
            rows.append(
                (
                    next(ids),
                    org_id,
                    client.created,
                    client.pk,
                    name,
                    kind,
                    tax_year,
                    period[0],
                    period[1],
                    status,
                    _priority(r)[0],
                    start,
                    due,
                    completed,
                    fee,
                    rate,
                    amount,
                    hours,
                    client.partner,
                    client.manager,
                    client.staff or r.choice(f.staff),
                    r.choice(f.managers),
                )
            )
    return rows


def _make_notes(
    f: _Firm, clients: list, per_client: int, engagement_rows: list, now: datetime
) -> list:
    r = f.rng
    org_id = f.organization.pk
    engagements: dict[int, list[int]] = {}
    for row in engagement_rows:
        engagements.setdefault(row[3], []).append(row[0])
    rows = []
    for client in clients:
        for note_type in _note_type(r, per_client):
            created = client.created + (now - client.created) * r.random()
            reminder = note_type == NoteType.REMINDER
            linked = engagements.get(client.pk)
            rows.append(
                (
                    org_id,
                    created,
                    client.pk,
                    r.choice(linked) if linked and r.random() < 0.3 else None,
                    r.choice(f.everyone),
                    note_type,
                    r.choice(NOTE_BODIES[note_type]),
                    r.random() < 0.05,
                    r.random() < 0.03,
                    # Already reminded: a bench firm must not send anyone mail.
                    created + timedelta(days=7) if reminder else None,
                    created + timedelta(days=7) if reminder else None,
                )
            )
    return rows


@dataclass
class _Chunk:
    """One chunk's rows, in COPY column order."""

    clients: list
    contacts: list
    links: list
    tags: list
    engagements: list
    notes: list
    tokens: list


def _reserve(count: int, per_client: tuple[int, int, int]) -> tuple[list, list, list]:
    return (
        reserve_ids(Client, count),
        reserve_ids(Contact, count * per_client[0]),
        reserve_ids(Engagement, count * per_client[1]),
    )


def _make_chunk(
    f: _Firm,
    ids: tuple[list, list, list],
    *,
    now: datetime,
    per_client: tuple[int, int, int],
) -> _Chunk:
    """Pure Python, no database: runs in a worker thread while the previous chunk
    is being inserted."""
    org_id = f.organization.pk
    client_ids, contact_ids, engagement_ids = ids
    contacts_per_client, engagements_per_client, notes_per_client = per_client
    client_rows, plain = _make_clients(f, client_ids, now)
    contact_rows, link_rows, people = _make_contacts(
        f, plain, contacts_per_client, contact_ids
    )
    engagement_rows = _make_engagements(
        f, plain, engagements_per_client, now.year, engagement_ids
    )
    # In token order: the search index takes them in neighbouring pages.
    tokens = sorted(
        (
            (org_id, c.pk, token, c.sort_name, c.archived)
            for c in plain
            for token in client_tokens(c, people[c.pk])
        ),
        key=lambda row: row[2],
    )
    return _Chunk(
        clients=client_rows,
        contacts=contact_rows,
        links=link_rows,
        tags=[
            (org_id, c.created, c.pk, tag)
            for c in plain
            for tag in f.rng.sample(f.tags, f.rng.choices([0, 1, 2], [55, 35, 10])[0])
        ],
        engagements=engagement_rows,
        notes=_make_notes(f, plain, notes_per_client, engagement_rows, now),
        tokens=tokens,
    )


def _insert_chunk(chunk: _Chunk, result: SeedResult) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # compiling big INSERTs costs more
    result.clients += copy_rows(Client, CLIENT_COLUMNS, chunk.clients)
    result.contacts += copy_rows(Contact, CONTACT_COLUMNS, chunk.contacts)
    copy_rows(ClientContact, LINK_COLUMNS, chunk.links)
    copy_rows(ClientTag, TAG_LINK_COLUMNS, chunk.tags)
    result.engagements += copy_rows(Engagement, ENGAGEMENT_COLUMNS, chunk.engagements)
    result.notes += copy_rows(Note, NOTE_COLUMNS, chunk.notes)
    result.tokens += copy_rows(ClientSearchToken, TOKEN_COLUMNS, chunk.tokens)


_SEEDED = (
    Client,
    Contact,
    ClientContact,
    ClientTag,
    Engagement,
    Note,
    ClientSearchToken,
)


def _refresh_statistics() -> None:
    """Fresh planner statistics (the firm just grew), and outside a transaction a
    VACUUM too, so index-only scans need not visit the new heap pages."""
    statistics_refresh([model._meta.db_table for model in _SEEDED], vacuum=True)


def seed_clients(
    *,
    organization: Organization,
    clients: int,
    contacts_per_client: int = 2,
    engagements_per_client: int = 2,
    notes_per_client: int = 2,
    stdout=None,
) -> SeedResult:
    """Top the firm up to `clients` clients (adds none when it has as many).

    Call inside tenant_context(organization)."""
    started = time.perf_counter()
    result = SeedResult()
    existing = Client.objects.filter(organization=organization).count()
    missing = clients - existing
    if missing <= 0:
        return result
    # Reproducible content, not secrets.
    rng = random.Random(f"{organization.slug}:{existing}")  # noqa: S311
    now = timezone.now()
    firm = _firm(organization, rng)
    per_client = (contacts_per_client, engagements_per_client, notes_per_client)
    sizes = [min(CHUNK, missing - start) for start in range(0, missing, CHUNK)]
    # Two cores' worth: the next chunk is generated in a thread (pure Python)
    # while PostgreSQL inserts this one and checks its foreign keys at commit.
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending = worker.submit(
            _make_chunk,
            firm,
            _reserve(sizes[0], per_client),
            now=now,
            per_client=per_client,
        )
        for i in range(len(sizes)):
            chunk = pending.result()
            if i + 1 < len(sizes):
                pending = worker.submit(
                    _make_chunk,
                    firm,
                    _reserve(sizes[i + 1], per_client),
                    now=now,
                    per_client=per_client,
                )
            # A transaction per chunk: an interrupted run keeps what it added
            # and the next run tops up the rest.
            with transaction.atomic():
                _insert_chunk(chunk, result)
            if stdout is not None:
                stdout.write(
                    f"  {organization.slug}: {existing + result.clients:,} clients"
                    f" ({time.perf_counter() - started:.1f} s)"
                )
    _refresh_statistics()
    result.seconds = time.perf_counter() - started
    return result
