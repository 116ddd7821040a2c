"""The shared cast.

Two firms: Alpha Accounting (alice the owner, adam the admin, mia the manager,
sam the staff member, rita read-only) and Beta Bookkeeping (oscar its owner, who
is the outsider to Alpha). Everything is created inside each test's transaction,
so a test may change the cast freely. Each firm's "firm created" event is written
through the audit service, so its hash chain is intact from the start.

The builders the fixtures call live in tests/factories.py.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from django_q.models import Task as QTask

from advisoros.accounts.models import User
from advisoros.audit.models import AuditAction
from advisoros.audit.services import audit_event_record
from advisoros.tenancy.db import platform_bypass, tenant_context
from advisoros.tenancy.models import Invitation, Membership, Organization, Role
from tests.factories import PASSWORD as PASSWORD  # modules import it from here
from tests.factories import make_client, make_user

if TYPE_CHECKING:
    from clients.models import Client as FirmClient


# The slow files first. `--dist loadfile` hands whole files to the workers in
# collection order (pyproject's --no-loadscope-reorder: by default xdist sorts
# them by their number of tests, which put the few-test, long files last, where
# one worker ran them alone while the other idled). Heaviest first: the browser
# walks, then the servers started by faults, replica and production tests, then
# the demo seeds and benches; the rest keep their order.
SLOW_FIRST = (
    (
        "tests/browser/test_staff_pages_accessible.py",
        "tests/browser/test_phone_layout.py",
    ),
    ("tests/browser/",),
    ("tests/faults/", "tests/replica/", "tests/production/"),
    (
        "demo.py",
        "bench",
        "tests/test_deploy_check.py",
        "tests/workflows/test_qcluster.py",
    ),
)


def _slowness(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    for rank, marks in enumerate(SLOW_FIRST):
        if any(mark in path for mark in marks):
            return rank
    return len(SLOW_FIRST)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_slowness)  # stable: each file's tests stay together, in order


# Read before any fixture swaps the credentials (settings are loaded by now).
_APP_PASSWORD = django_settings.DATABASES["default"].get("PASSWORD", "")


def _credentials(user: str, password: str) -> None:
    """Point the default connection at another role (the main thread's wrapper
    shares this dict with settings; connections made later read it)."""
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    settings.DATABASES["default"].update(USER=user, PASSWORD=password)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The owner role makes, migrates and drops the test databases, as in
    production (advisoros.tenancy.dbroles); the tests then run as the app role."""
    from django.conf import settings

    owner = settings.DATABASE_OWNER
    _credentials(owner["USER"], owner.get("PASSWORD", ""))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.conf import settings

    with django_db_blocker.unblock():
        _credentials(settings.DATABASE_APP_USER, _APP_PASSWORD)
    yield
    owner = settings.DATABASE_OWNER
    with django_db_blocker.unblock():
        _credentials(owner["USER"], owner.get("PASSWORD", ""))


@pytest.fixture
def owner_cursor(transactional_db):
    """A cursor on a connection of its own as the database owner role: what
    an attacker holding the owner's credentials (or an operator) can do.
    Only committed rows are visible to it, hence transactional_db."""
    from advisoros.tenancy.dbroles import owner_connect

    with owner_connect() as conn:
        yield conn.cursor()


@dataclass
class Cast:
    alpha: Organization
    beta: Organization
    alice: User  # Alpha owner
    adam: User  # Alpha admin
    mia: User  # Alpha manager
    sam: User  # Alpha staff
    rita: User  # Alpha read-only
    oscar: User  # Beta owner: the outsider to Alpha
    alpha_invitation: Invitation
    beta_invitation: Invitation

    def membership(self, user: User, org: Organization) -> Membership:
        with platform_bypass():
            return Membership.objects.select_related("user", "organization").get(
                user=user, organization=org
            )


@pytest.fixture
def cast(db) -> Cast:
    with platform_bypass():
        alpha = Organization.objects.create(name="Alpha Accounting", slug="alpha")
        beta = Organization.objects.create(name="Beta Bookkeeping", slug="beta")
        people = {
            "alice": (make_user("alice@alpha.test", "Alice Owner"), alpha, Role.OWNER),
            "adam": (make_user("adam@alpha.test", "Adam Admin"), alpha, Role.ADMIN),
            "mia": (make_user("mia@alpha.test", "Mia Manager"), alpha, Role.MANAGER),
            "sam": (make_user("sam@alpha.test", "Sam Staff"), alpha, Role.STAFF),
            "rita": (
                make_user("rita@alpha.test", "Rita Readonly"),
                alpha,
                Role.READONLY,
            ),
            "oscar": (make_user("oscar@beta.test", "Oscar Outsider"), beta, Role.OWNER),
        }
        for user, org, role in people.values():
            Membership.objects.create(organization=org, user=user, role=role)
        expires = timezone.now() + timedelta(days=7)
        invitations = {
            org.slug: Invitation.objects.create(
                organization=org,
                email=f"new@{org.slug}.test",
                role=Role.STAFF,
                invited_by=inviter,
                expires_at=expires,
            )
            for org, inviter in (
                (alpha, people["alice"][0]),
                (beta, people["oscar"][0]),
            )
        }
        for org, user in ((alpha, people["alice"][0]), (beta, people["oscar"][0])):
            # What organization_create records, linked into the firm's chain.
            audit_event_record(
                action=AuditAction.FIRM_CREATED,
                organizations=[org],
                actor=user,
                target=org.name,
            )
    return Cast(
        alpha=alpha,
        beta=beta,
        alpha_invitation=invitations["alpha"],
        beta_invitation=invitations["beta"],
        **{name: value[0] for name, value in people.items()},
    )


@pytest.fixture
def login_as(client: Client):
    """Sign a cast member in (password step only; two-factor is tested on its own)."""

    def _login(user: User) -> Client:
        client.force_login(user)
        return client

    return _login


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def root(cast) -> User:
    """The platform superuser (Django admin, the operations page)."""
    return User.objects.create_superuser("root@platform.test", PASSWORD, name="Root")


@pytest.fixture
def as_root(root, client):
    """The platform superuser, signed in with password and authenticator code."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=root, name="phone", confirmed=True)
    client.force_login(root)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # as django_otp.login does
    session.save()
    return client


@pytest.fixture
def run_schedule(django_capture_on_commit_callbacks) -> Callable[[Callable], int]:
    """Run a cross-firm scheduled job as the cluster would: the entry point queues
    one job per firm on commit, and each runs (django-q2's sync mode here).
    Returns the sum of the counts the firms' jobs returned (emails sent,
    documents archived ...)."""

    def run(entry: Callable[[], int]) -> int:
        before = set(QTask.objects.values_list("id", flat=True))
        with django_capture_on_commit_callbacks(execute=True):
            entry()
        results = QTask.objects.exclude(id__in=before).values_list("result", flat=True)
        # Counts only: a job the firms' jobs queue in turn (an invoice's email,
        # which answers with words) is not part of the schedule's answer.
        return sum(result for result in results if isinstance(result, int))

    return run


@pytest.fixture
def jane(cast) -> FirmClient:
    """Jane Doe, a client of Alpha made through the clients service: Alice her
    partner, Sam on her staff (so she is his where a firm shows staff their
    assigned clients only), nobody her manager."""
    return make_client(cast.alpha, "Jane Doe", partner=cast.alice, staff=cast.sam)


# moto's S3 server (tests/documents/test_s3.py, tests/ops/test_health.py).
BUCKET = "advisoros-test"
REGION = "us-east-1"
KEYS = {"access_key": "testing", "secret_key": "testing-secret"}
MOTO_SERVER = Path(sys.executable).parent / "moto_server"


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on a free loopback port, for the whole session."""
    port = free_loopback_port()
    server = subprocess.Popen(  # noqa: S603 (our own virtualenv's binary)
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)  # noqa: S310
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, "moto_server exited"
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=KEYS["access_key"],
            aws_secret_access_key=KEYS["secret_key"],
        ).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def clamd(tmp_path_factory) -> str:
    """A real clamd (Debian's clamav-daemon) for this test session, with a
    signature database made now: the EICAR test signature only
    (documents.clamd_local). Yields its socket's path."""
    from documents.clamd_local import clamd_installed, local_clamd

    if not clamd_installed():
        pytest.fail("clamd is missing (apt-get install clamav-daemon)")
    with local_clamd(tmp_path_factory.mktemp("clamd")) as socket_path:
        yield socket_path


@pytest.fixture
def scanner(settings, clamd) -> str:
    """Uploads in this test are scanned by the session's clamd."""
    settings.CLAMD_SOCKET = clamd
    return clamd


@pytest.fixture(scope="session")
def stripe_server():
    """One Stripe stand-in (tests/standins/stripe.py) per test process."""
    from tests.standins.stripe import StripeStandin

    with StripeStandin() as server:
        yield server


@pytest.fixture
def stripe_standin(stripe_server, settings):
    """The Stripe stand-in, emptied, with the app's Stripe calls pointed at it
    (settings.STRIPE_API_BASE) and no retries (a 500 would otherwise sleep
    through the library's backoff). Add an account with `add_account()`."""
    stripe_server.reset()
    settings.STRIPE_API_BASE = stripe_server.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 5.0
    yield stripe_server
    stripe_server.reset()


# QuickBooks Online (integrations.quickbooks) ---------------------------------------


@pytest.fixture(scope="session")
def intuit_server():
    """One Intuit stand-in (tests/standins/intuit.py) per test process."""
    from tests.standins.intuit import IntuitStandin

    with IntuitStandin() as server:
        yield server


@pytest.fixture
def intuit_standin(intuit_server, settings):
    """The Intuit stand-in, emptied, with QuickBooks turned on and pointed at it:
    our app's keys, its discovery document as INTUIT_ENVIRONMENT, its API, the
    webhook verifier, and short waits between retries."""
    from tests.standins import intuit

    intuit_server.reset()
    settings.INTUIT_CLIENT_ID = intuit.CLIENT_ID
    settings.INTUIT_CLIENT_SECRET = intuit.CLIENT_SECRET
    settings.INTUIT_REDIRECT_URI = "http://testserver/integrations/quickbooks/callback/"
    settings.INTUIT_ENVIRONMENT = intuit_server.discovery_url
    settings.INTUIT_API_BASE = intuit_server.url
    settings.INTUIT_WEBHOOK_VERIFIER = intuit.VERIFIER
    settings.QUICKBOOKS_TIMEOUT_SECONDS = 5.0
    settings.QUICKBOOKS_BACKOFF_SECONDS = 0.01
    yield intuit_server
    intuit_server.reset()


# The firm's own subscription (advisoros.tenancy.plans) -----------------------------

PLATFORM_KEY = "sk_test_platform"
PLATFORM_WEBHOOK_SECRET = "whsec_platform_test"


@pytest.fixture
def platform_billing(settings):
    """AdvisorOS sold as a hosted service in this test: the platform's Stripe
    keys are set (its API is the stand-in only where a test starts one). The
    drawn navigation is cached per process, so it is forgotten either side."""
    from advisoros.nav import nav_html

    settings.PLATFORM_STRIPE_SECRET_KEY = PLATFORM_KEY
    settings.PLATFORM_STRIPE_WEBHOOK_SECRET = PLATFORM_WEBHOOK_SECRET
    settings.PLATFORM_BILLING_GRACE_DAYS = 7
    nav_html.cache_clear()
    yield settings
    nav_html.cache_clear()


@pytest.fixture
def starter(db):
    """The default plan, small enough to reach: 8 members, 3 clients, 1 GB."""
    from tests.factories import make_plan

    return make_plan(
        "starter", "Starter", max_members=8, max_clients=3, max_storage_gb=1
    )


@pytest.fixture
def alpha_on_starter(cast, platform_billing, starter):
    """Alpha, in the middle of its Starter trial (the cast has Alice, Adam, Mia,
    Sam and Rita, and one open invitation: 6 of the plan's 8 seats)."""
    from tests.factories import make_subscription

    return make_subscription(cast.alpha, starter)


@pytest.fixture
def post_webhook(django_capture_on_commit_callbacks):
    """A stand-in webhook target (tests/standins/stripe.py) that posts to `url`
    through Django's test client, inside captured on-commit callbacks: the
    intake's transaction "commits" and the job it queued runs (django-q2's
    sync mode), as in production minus the network."""

    def target_for(url: str):
        http = Client()

        def post(body: bytes, headers: dict) -> int:
            with django_capture_on_commit_callbacks(execute=True):
                response = http.post(
                    url,
                    body,
                    content_type="application/json",
                    headers={"Stripe-Signature": headers["Stripe-Signature"]},
                )
            return response.status_code

        return post

    return target_for


@dataclass
class PlatformStripe:
    """The platform's account at the Stripe stand-in, with a price per plan."""

    standin: object  # tests.standins.stripe.StripeStandin
    account: object  # its Account
    starter: object  # Plan, 49 USD
    growth: object  # Plan, 149 USD: 20 members, 100 clients, 10 GB

    def subscription_of(self, organization) -> str:
        from advisoros.tenancy.models import FirmSubscription

        with tenant_context(organization):
            return FirmSubscription.objects.get(
                organization=organization
            ).stripe_subscription_id


@pytest.fixture
def platform_stripe(platform_billing, stripe_standin, starter, post_webhook):
    """The platform's Stripe account at the stand-in: its key and signing
    secret are the platform's settings, its events go to
    /webhooks/stripe/platform/, and Starter and Growth have monthly prices."""
    import stripe

    from tests.factories import make_plan

    account = stripe_standin.add_account(
        PLATFORM_KEY,
        webhook_secret=PLATFORM_WEBHOOK_SECRET,
        webhook_target=post_webhook("/webhooks/stripe/platform/"),
        name="AdvisorOS",
    )
    api = stripe.StripeClient(
        PLATFORM_KEY, base_addresses={"api": stripe_standin.url}, max_network_retries=0
    )

    def price(name: str, cents: int) -> str:
        return api.v1.prices.create(
            params={
                "currency": "usd",
                "unit_amount": cents,
                "recurring": {"interval": "month"},
                "product_data": {"name": f"AdvisorOS {name}"},
            }
        ).id

    starter.stripe_price_id = price("Starter", 4900)
    starter.monthly_price = 49
    starter.save()
    growth = make_plan(
        "growth",
        "Growth",
        monthly_price=149,
        max_members=20,
        max_clients=100,
        max_storage_gb=10,
        stripe_price_id=price("Growth", 14900),
    )
    stripe_standin.requests.clear()  # the tests count their own requests
    return PlatformStripe(stripe_standin, account, starter, growth)
