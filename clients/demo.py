"""Demo clients for "Demo CPA" (registered with seed_demo).

Three dozen clients a small firm would have: households, sole proprietors,
LLCs, S and C corporations, partnerships, a nonprofit, a trust and an estate,
with their people, this season's returns, monthly work and the notes staff
keep. Written through the services, so search, validation and the audit log
see them as if typed in. Dates are relative to today, so some work is always
overdue; everything else comes from a seeded random generator, so every run
builds the same firm.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from advisoros.accounts.models import User
from advisoros.tenancy.clock import firm_today
from advisoros.tenancy.demo import register_demo_seeder
from advisoros.tenancy.models import Organization
from clients.fake import fake_tax_id
from clients.models import (
    Client,
    ClientStatus,
    Contact,
    ContactRole,
    EngagementStatus,
    EngagementType,
    EntityType,
    FeeModel,
    Note,
    NoteType,
    Priority,
    RelationshipKind,
    RiskLevel,
)
from clients.services.clients import client_archive, client_create
from clients.services.contacts import contact_create, contact_link
from clients.services.engagements import engagement_create
from clients.services.notes import note_create
from clients.services.relationships import relationship_create
from clients.services.search import fold
from clients.services.tags import tag_find_or_create

DEMO_SLUG = "demo"
OWNER, ADMIN, MANAGER, STAFF = (
    "owner@demo.test",
    "admin@demo.test",
    "manager@demo.test",
    "staff@demo.test",
)
TAGS = ("VIP", "Extension filed", "Payroll client", "New client")

IND, SP, LLC, S, C, P, NP, T = (
    EntityType.INDIVIDUAL,
    EntityType.SOLE_PROPRIETORSHIP,
    EntityType.LLC,
    EntityType.S_CORP,
    EntityType.C_CORP,
    EntityType.PARTNERSHIP,
    EntityType.NONPROFIT,
    EntityType.TRUST_ESTATE,
)


@dataclass
class DemoClient:
    name: str
    entity: str
    city: str
    industry: str = ""
    legal_name: str = ""
    # (first, last, role, title); the email is made from the name and domain
    people: list[tuple[str, str, str, str]] = field(default_factory=list)
    domain: str = ""
    tags: tuple[str, ...] = ()
    status: str = ClientStatus.ACTIVE
    risk: str = RiskLevel.LOW
    work: tuple[str, ...] = ()  # extra engagements: bookkeeping, payroll, ...
    fiscal_year_end: tuple[int, int] = (12, 31)
    # A sole proprietor trading under a business name is filed by the owner's name.
    code: str = ""


# fmt: off
CLIENTS = [
    DemoClient("Michael Thompson", IND, "Springfield, IL", people=[("Michael", "Thompson", ContactRole.PRIMARY, "")], domain="thompsonfamily.example", tags=("VIP",)),
    DemoClient("Sarah Thompson", IND, "Springfield, IL", people=[("Sarah", "Thompson", ContactRole.PRIMARY, "")], domain="thompsonfamily.example", tags=("VIP",)),
    DemoClient("David Chen", IND, "Naperville, IL", people=[("David", "Chen", ContactRole.PRIMARY, "")], domain="chenhome.example", tags=("Extension filed",)),
    DemoClient("Emily Chen", IND, "Naperville, IL", people=[("Emily", "Chen", ContactRole.PRIMARY, "")], domain="chenhome.example", tags=("Extension filed",)),
    DemoClient("William and Linda Park", IND, "Evanston, IL", people=[("William", "Park", ContactRole.PRIMARY, ""), ("Linda", "Park", ContactRole.SPOUSE, "")], domain="parkmail.example"),
    DemoClient("Robert Garcia", IND, "Oak Park, IL", people=[("Robert", "Garcia", ContactRole.PRIMARY, "")], domain="garcia-home.example", risk=RiskLevel.MEDIUM),
    DemoClient("Jennifer Walsh", IND, "Chicago, IL", people=[("Jennifer", "Walsh", ContactRole.PRIMARY, "")], domain="walsh.example", tags=("New client",)),
    DemoClient("Priya Patel", IND, "Schaumburg, IL", people=[("Priya", "Patel", ContactRole.PRIMARY, ""), ("Raj", "Patel", ContactRole.SPOUSE, "")], domain="patelfamily.example", tags=("VIP",)),
    DemoClient("James O'Connor", IND, "Joliet, IL", people=[("James", "O'Connor", ContactRole.PRIMARY, "")], domain="oconnor.example", tags=("Extension filed",)),
    DemoClient("María Rodríguez", IND, "Cicero, IL", people=[("María", "Rodríguez", ContactRole.PRIMARY, "")], domain="rodriguez.example"),
    DemoClient("Kevin Nguyen", IND, "Aurora, IL", people=[("Kevin", "Nguyen", ContactRole.PRIMARY, "")], domain="nguyen.example", status=ClientStatus.INACTIVE),
    DemoClient("Olivia Bennett", IND, "Wheaton, IL", people=[("Olivia", "Bennett", ContactRole.PRIMARY, "")], domain="bennett.example", status=ClientStatus.PROSPECT, tags=("New client",)),
    DemoClient("Daniel Kim", IND, "Skokie, IL", people=[("Daniel", "Kim", ContactRole.PRIMARY, "")], domain="kimfamily.example"),
    DemoClient("Grace Kim", IND, "Skokie, IL", people=[("Grace", "Kim", ContactRole.PRIMARY, "")], domain="kimfamily.example"),
    DemoClient("Hannah Brooks Photography", SP, "Chicago, IL", "Photography", people=[("Hannah", "Brooks", ContactRole.PRIMARY, "Owner")], domain="hannahbrooks.example", code="BROOKS-H"),
    DemoClient("Marcus Reed Consulting", SP, "Evanston, IL", "Management consulting", people=[("Marcus", "Reed", ContactRole.PRIMARY, "Principal")], domain="marcusreed.example", tags=("Extension filed",), code="REED-M"),
    DemoClient("Lisa Tran Design Studio", SP, "Chicago, IL", "Graphic design", people=[("Lisa", "Tran", ContactRole.PRIMARY, "Owner")], domain="lisatran.example", work=("bookkeeping",), code="TRAN-L"),
    DemoClient("Cedar Ridge Properties", LLC, "Naperville, IL", "Residential real estate", "Cedar Ridge Properties LLC", [("Tom", "Hollis", ContactRole.PRIMARY, "Managing member"), ("Jill", "Hollis", ContactRole.OFFICER, "Member")], "cedarridge.example", ("VIP",), work=("bookkeeping", "compilation")),
    DemoClient("Blue Harbor Coffee", LLC, "Chicago, IL", "Coffee shops", "Blue Harbor Coffee LLC", [("Nina", "Alvarez", ContactRole.PRIMARY, "Owner"), ("Carl", "Price", ContactRole.BILLING, "Bookkeeper")], "blueharbor.example", ("Payroll client",), work=("payroll", "bookkeeping")),
    DemoClient("Summit Landscaping", LLC, "Aurora, IL", "Landscaping", "Summit Landscaping LLC", [("Greg", "Novak", ContactRole.PRIMARY, "Owner")], "summitlandscaping.example", ("Payroll client", "New client"), risk=RiskLevel.MEDIUM, work=("payroll",)),
    DemoClient("Northwind Logistics", LLC, "Elk Grove Village, IL", "Freight and logistics", "Northwind Logistics LLC", [("Sandra", "Okafor", ContactRole.PRIMARY, "CEO"), ("Phil", "Grant", ContactRole.BILLING, "Controller")], "northwindlogistics.example", ("VIP", "Payroll client"), work=("payroll", "bookkeeping", "advisory")),
    DemoClient("Bright Smile Dental", S, "Oak Brook, IL", "Dental practice", "Bright Smile Dental, P.C.", [("Dana", "Lee", ContactRole.PRIMARY, "President"), ("Amy", "Wu", ContactRole.BILLING, "Office manager")], "brightsmile.example", ("VIP", "Payroll client"), work=("payroll",)),
    DemoClient("Keystone Plumbing & Heating", S, "Joliet, IL", "Plumbing", "Keystone Plumbing & Heating, Inc.", [("Frank", "Russo", ContactRole.PRIMARY, "President")], "keystoneplumbing.example", ("Extension filed",), risk=RiskLevel.MEDIUM, work=("bookkeeping",)),
    DemoClient("Apex Physical Therapy", S, "Schaumburg, IL", "Physical therapy", "Apex Physical Therapy, Inc.", [("Rachel", "Stone", ContactRole.PRIMARY, "President"), ("Ben", "Stone", ContactRole.OFFICER, "Secretary")], "apexpt.example", ("Payroll client",), work=("payroll",)),
    DemoClient("Prairie Software", S, "Champaign, IL", "Software development", "Prairie Software, Inc.", [("Ethan", "Cole", ContactRole.PRIMARY, "CEO")], "prairiesoftware.example", ("New client",)),
    DemoClient("Riverbend Auto Repair", S, "Peoria, IL", "Auto repair", "Riverbend Auto Repair, Inc.", [("Luis", "Mendez", ContactRole.PRIMARY, "Owner")], "riverbendauto.example"),
    DemoClient("Meridian Manufacturing", C, "Rockford, IL", "Industrial parts", "Meridian Manufacturing Corporation", [("Helen", "Brandt", ContactRole.PRIMARY, "CFO"), ("Victor", "Hale", ContactRole.OFFICER, "CEO"), ("Joan", "Pierce", ContactRole.BILLING, "AP manager")], "meridianmfg.example", ("VIP",), risk=RiskLevel.HIGH, work=("audit", "payroll"), fiscal_year_end=(6, 30)),
    DemoClient("Lumen Biotech", C, "Chicago, IL", "Biotechnology", "Lumen Biotech, Inc.", [("Aisha", "Rahman", ContactRole.PRIMARY, "CFO"), ("Owen", "Fisher", ContactRole.OFFICER, "CEO")], "lumenbio.example", ("VIP",), risk=RiskLevel.HIGH, work=("advisory",)),
    DemoClient("Harborview Hospitality Group", C, "Chicago, IL", "Restaurants", "Harborview Hospitality Group, Inc.", [("Paul", "Martin", ContactRole.PRIMARY, "President"), ("Rosa", "Diaz", ContactRole.BILLING, "Controller")], "harborviewhg.example", ("Payroll client",), risk=RiskLevel.MEDIUM, work=("review", "payroll"), fiscal_year_end=(9, 30)),
    DemoClient("Oak & Ivy Partners", P, "Chicago, IL", "Law practice", "Oak & Ivy Partners LLP", [("Claire", "Oakley", ContactRole.PRIMARY, "Managing partner"), ("Sam", "Ivers", ContactRole.OFFICER, "Partner")], "oakivy.example", ("Extension filed",)),
    DemoClient("Sunset Ridge Investors", P, "Wheaton, IL", "Real estate investment", "Sunset Ridge Investors LP", [("Mark", "Webb", ContactRole.PRIMARY, "General partner")], "sunsetridge.example", ("Extension filed",), risk=RiskLevel.MEDIUM),
    DemoClient("Granite Peak Medical Group", P, "Naperville, IL", "Medical practice", "Granite Peak Medical Group LLP", [("Anita", "Shah", ContactRole.PRIMARY, "Managing partner"), ("Leo", "Burke", ContactRole.BILLING, "Practice administrator")], "granitepeakmed.example", ("Payroll client",), work=("payroll", "bookkeeping")),
    DemoClient("Hope Community Food Bank", NP, "Chicago, IL", "Food assistance", "Hope Community Food Bank, Inc.", [("Martha", "Gaines", ContactRole.PRIMARY, "Executive director"), ("Tim", "Ross", ContactRole.OFFICER, "Treasurer")], "hopefoodbank.example", work=("bookkeeping",), fiscal_year_end=(6, 30)),
    DemoClient("Riverside Arts Council", NP, "Riverside, IL", "Arts", "Riverside Arts Council", [("Julia", "Fenn", ContactRole.PRIMARY, "Director")], "riversidearts.example", status=ClientStatus.ARCHIVED),
    DemoClient("Whitaker Family Trust", T, "Lake Forest, IL", "", "The Whitaker Family Trust", [("George", "Whitaker", ContactRole.PRIMARY, "Trustee"), ("Ellen", "Whitaker", ContactRole.OTHER, "Beneficiary")], "whitaker.example", ("VIP",)),
    DemoClient("Estate of Eleanor Price", T, "Evanston, IL", "", "Estate of Eleanor M. Price", [("Thomas", "Price", ContactRole.PRIMARY, "Executor")], "pricefamily.example", ("New client",)),
]
# fmt: on

SPOUSES = [
    ("Michael Thompson", "Sarah Thompson"),
    ("David Chen", "Emily Chen"),
    ("Daniel Kim", "Grace Kim"),
]
OWNERS = [
    ("Priya Patel", "Apex Physical Therapy"),
    ("Michael Thompson", "Keystone Plumbing & Heating"),
    ("Whitaker Family Trust", "Sunset Ridge Investors"),
]
PARENTS = [("Harborview Hospitality Group", "Blue Harbor Coffee")]

RETURN_FORMS = {
    IND: ("1040", EngagementType.INDIVIDUAL_TAX, Decimal("650")),
    SP: ("1040 with Schedule C", EngagementType.INDIVIDUAL_TAX, Decimal("1200")),
    LLC: ("1065", EngagementType.BUSINESS_TAX, Decimal("2400")),
    S: ("1120-S", EngagementType.BUSINESS_TAX, Decimal("2800")),
    C: ("1120", EngagementType.BUSINESS_TAX, Decimal("4500")),
    P: ("1065", EngagementType.BUSINESS_TAX, Decimal("3200")),
    NP: ("990", EngagementType.BUSINESS_TAX, Decimal("2200")),
    T: ("1041", EngagementType.BUSINESS_TAX, Decimal("1500")),
}
RETURN_STATUSES = [
    EngagementStatus.COMPLETED,
    EngagementStatus.IN_PROGRESS,
    EngagementStatus.REVIEW,
    EngagementStatus.PLANNING,
    EngagementStatus.ON_HOLD,
    EngagementStatus.IN_PROGRESS,
]
CALLS = [
    "Called about the missing 1099-B from the brokerage; they will upload it this week.",
    "Discussed estimated payments for next year; suggested raising Q3 by $2,000.",
    "Asked whether the home office still qualifies after the move. Yes, same setup.",
    "Walked through the organizer. Most documents are in; waiting on the K-1.",
]
MEETINGS = [
    "Year-end planning meeting: retirement contributions, equipment purchases, bonus timing.",
    "Reviewed the draft return together; two questions on depreciation, answered.",
    "Kick-off meeting for the engagement: timeline agreed, document list sent.",
]
EMAILS = [
    "Sent the engagement letter for signature.",
    "Emailed the list of outstanding items (bank statements for March and April).",
    "Confirmed the new mailing address for IRS notices.",
]


def _aware(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@register_demo_seeder
def seed_demo_clients(
    *, organization: Organization, people: dict[str, User], stdout=None
) -> None:
    """Runs inside the firm's context; does nothing when the firm has clients."""
    if organization.slug != DEMO_SLUG:
        return
    if Client.objects.filter(organization=organization).exists():
        return
    with transaction.atomic():
        counts = _seed(organization, people)
    if stdout is not None:
        stdout.write(
            "  Demo clients: {clients} clients, {contacts} contacts, "
            "{engagements} engagements, {notes} notes".format(**counts)
        )


def _seed(organization: Organization, people: dict[str, User]) -> dict[str, int]:
    rng = random.Random(2026)  # noqa: S311 (demo data, not security)
    today = firm_today(organization)
    year = today.year - 1  # this season's returns
    owner, admin, manager, staff = (people[e] for e in (OWNER, ADMIN, MANAGER, STAFF))
    tags = {
        name: tag_find_or_create(organization=organization, name=name) for name in TAGS
    }
    counts = dict(clients=0, contacts=0, engagements=0, notes=0)
    clients: dict[str, Client] = {}
    first_contacts: dict[str, Contact] = {}
    for n, spec in enumerate(CLIENTS):
        city, region = spec.city.split(", ")
        partner = owner if n % 2 == 0 else admin
        client = client_create(
            organization=organization,
            data={
                "display_name": spec.name,
                "client_code": spec.code,
                "legal_name": spec.legal_name,
                "entity_type": spec.entity,
                "status": ClientStatus.ACTIVE
                if spec.status == ClientStatus.ARCHIVED
                else spec.status,
                "risk_level": spec.risk,
                "industry": spec.industry,
                "fiscal_year_end_month": spec.fiscal_year_end[0],
                "fiscal_year_end_day": spec.fiscal_year_end[1],
                "tax_id": fake_tax_id(rng, person=EntityType(spec.entity).is_person),
                "email": _ascii(f"{spec.people[0][0].lower()}@{spec.domain}"),
                "phone": f"(312) 555-{rng.randint(100, 9999):04d}",
                "website": "" if spec.entity == IND else f"https://www.{spec.domain}",
                "address_line1": f"{rng.randint(10, 9899)} "
                f"{rng.choice(['Oak', 'Maple', 'Lake', 'Main', 'Elm', 'Washington', 'Madison'])} "
                f"{rng.choice(['Street', 'Avenue', 'Road', 'Drive'])}",
                "address_line2": rng.choice(["", "", "", "Suite 200", "Unit 4B"]),
                "city": city,
                "region": region,
                "postal_code": f"60{rng.randint(100, 699):03d}",
                "country": "US",
                "partner": partner,
                "manager": manager if n % 5 != 4 else None,
                "staff": staff if n % 2 == 1 else None,
            },
            tags=[tags[t] for t in spec.tags],
        )
        clients[spec.name] = client
        counts["clients"] += 1
        for first, last, role, title in spec.people:
            email = f"{first.lower()}@{spec.domain}"
            if first == spec.people[0][0] and EntityType(spec.entity).is_person:
                email = (
                    f"{first.lower()}.{last.lower().replace(chr(39), '')}@{spec.domain}"
                )
            contact = contact_create(
                client=client,
                data={
                    "first_name": first,
                    "last_name": last,
                    "email": _ascii(email),
                    "phone": f"(312) 555-{rng.randint(100, 9999):04d}",
                    "title": title,
                },
                role=role,
            )
            first_contacts.setdefault(spec.name, contact)
            counts["contacts"] += 1
        counts["engagements"] += _engagements(rng, client, spec, n, year, today, people)
        counts["notes"] += _notes(rng, client, spec, n, today, people)
        if spec.status == ClientStatus.ARCHIVED:
            client_archive(client=client)
    for a, b in SPOUSES:
        relationship_create(
            from_client=clients[a], to_client=clients[b], kind=RelationshipKind.SPOUSE
        )
        # Each spouse is also a contact on the other's file.
        for one, other in ((a, b), (b, a)):
            contact_link(
                client=clients[one],
                contact=first_contacts[other],
                role=ContactRole.SPOUSE,
            )
    for a, b in OWNERS:
        relationship_create(
            from_client=clients[a], to_client=clients[b], kind=RelationshipKind.OWNER
        )
    for a, b in PARENTS:
        relationship_create(
            from_client=clients[a],
            to_client=clients[b],
            kind=RelationshipKind.PARENT_COMPANY,
        )
    return counts


def _ascii(text: str) -> str:
    return fold(text).replace(" ", "")


def _engagements(rng, client, spec, n, year, today, people) -> int:
    if spec.status == ClientStatus.PROSPECT:
        return 0
    manager, staff = people[MANAGER], people[STAFF]
    form, kind, fee = RETURN_FORMS[spec.entity]
    status = RETURN_STATUSES[n % len(RETURN_STATUSES)]
    if spec.status in (ClientStatus.INACTIVE, ClientStatus.ARCHIVED):
        status = EngagementStatus.COMPLETED
    # Every fourth open return is past its due date: the overdue list is never empty.
    due = today + timedelta(
        days=-rng.randint(3, 20) if n % 4 == 1 else rng.randint(5, 120)
    )
    engagement_create(
        client=client,
        data={
            "name": f"{year} Form {form}",
            "engagement_type": kind,
            "tax_year": year,
            "status": status,
            "priority": Priority.HIGH if "VIP" in spec.tags else Priority.NORMAL,
            "start_date": today - timedelta(days=rng.randint(30, 90)),
            "due_date": due,
            "completed_date": today - timedelta(days=rng.randint(1, 25))
            if status == EngagementStatus.COMPLETED
            else None,
            "fee_model": FeeModel.FIXED,
            "fee_amount": fee + rng.randint(0, 8) * 50,
            "budgeted_hours": Decimal(rng.randint(3, 30)),
            "partner": client.partner,
            "manager": manager,
            "preparer": staff if client.staff_id else manager,
            "reviewer": client.partner,
        },
    )
    made = 1
    for work in spec.work:
        engagement_create(
            client=client, data=_recurring(rng, work, year, today, client, people)
        )
        made += 1
    return made


def _recurring(rng, work, year, today, client, people) -> dict:
    manager, staff = people[MANAGER], people[STAFF]
    month_start = today.replace(day=1)
    common = {
        "partner": client.partner,
        "manager": manager,
        "preparer": staff,
        "reviewer": manager,
        "start_date": month_start,
        "status": EngagementStatus.IN_PROGRESS,
    }
    if work == "bookkeeping":
        return {
            **common,
            "name": f"Monthly bookkeeping {today:%B %Y}",
            "engagement_type": EngagementType.BOOKKEEPING,
            "period_start": month_start,
            "period_end": (month_start + timedelta(days=32)).replace(day=1)
            - timedelta(days=1),
            "due_date": (month_start + timedelta(days=45)).replace(day=15),
            "fee_model": FeeModel.RETAINER,
            "fee_amount": Decimal(rng.choice([450, 600, 850, 1200])),
            "budgeted_hours": Decimal(rng.randint(4, 12)),
        }
    if work == "payroll":
        return {
            **common,
            "name": f"Payroll {today.year}",
            "engagement_type": EngagementType.PAYROLL,
            "period_start": date(today.year, 1, 1),
            "period_end": date(today.year, 12, 31),
            "due_date": today + timedelta(days=rng.randint(2, 12)),
            "fee_model": FeeModel.RETAINER,
            "fee_amount": Decimal(rng.choice([300, 400, 650])),
            "priority": Priority.HIGH,
        }
    if work in ("audit", "review", "compilation"):
        return {
            **common,
            "name": f"{year} financial statement {work}",
            "engagement_type": work,
            "tax_year": year,
            "status": EngagementStatus.PLANNING
            if work != "review"
            else EngagementStatus.REVIEW,
            "period_start": date(year, 1, 1),
            "period_end": date(year, 12, 31),
            "due_date": today + timedelta(days=rng.randint(20, 75)),
            "fee_model": FeeModel.FIXED,
            "fee_amount": Decimal({"audit": 28000, "review": 12000}.get(work, 4500)),
            "budgeted_hours": Decimal({"audit": 180, "review": 70}.get(work, 25)),
            "priority": Priority.URGENT if work == "audit" else Priority.NORMAL,
        }
    return {
        **common,
        "name": "Growth and cash-flow advisory",
        "engagement_type": EngagementType.ADVISORY,
        "due_date": today + timedelta(days=rng.randint(30, 90)),
        "fee_model": FeeModel.HOURLY,
        "hourly_rate": Decimal("225.00"),
        "budgeted_hours": Decimal(40),
    }


def _notes(rng, client, spec, n, today, people) -> int:
    owner, manager, staff = people[OWNER], people[MANAGER], people[STAFF]
    made = []
    for _ in range(rng.randint(1, 3)):
        note_type = rng.choice([NoteType.CALL, NoteType.MEETING, NoteType.EMAIL])
        body = rng.choice(
            {NoteType.CALL: CALLS, NoteType.MEETING: MEETINGS, NoteType.EMAIL: EMAILS}[
                note_type
            ]
        )
        author = rng.choice(
            [owner, manager, staff] if client.staff_id else [owner, manager]
        )
        made.append(
            note_create(
                client=client,
                author=author,
                data={"note_type": note_type, "body": body},
            )
        )
    if n % 6 == 0:
        made.append(
            note_create(
                client=client,
                author=manager,
                data={
                    "note_type": NoteType.GENERAL,
                    "body": "Prefers email to phone calls. Sends documents through the "
                    "portal at the end of each month.",
                    "is_pinned": True,
                },
            )
        )
    if "VIP" in spec.tags and n % 3 == 0:
        made.append(
            note_create(
                client=client,
                author=owner,
                data={
                    "note_type": NoteType.GENERAL,
                    "body": "Partner only: considering selling the business within two "
                    "years. Keep an eye on succession planning.",
                    "is_private": True,
                },
            )
        )
    if n % 7 == 3:
        made.append(
            note_create(
                client=client,
                author=manager,
                data={
                    "note_type": NoteType.REMINDER,
                    "body": "Follow up on the missing K-1s and the brokerage statement.",
                    "remind_at": _aware(today + timedelta(days=rng.randint(1, 10)), 9),
                },
            )
        )
    # Spread the history over the past months, oldest first.
    for age, note in enumerate(reversed(made)):
        Note.objects.filter(pk=note.pk).update(
            created_at=_aware(today - timedelta(days=age * rng.randint(6, 30) + 1), 10)
        )
    return len(made)
