"""Logicnet CRM settings: one module, read from the environment (see .env.example)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from logicnet.client_ip import parse_trusted_proxies
from logicnet.encryption.config import parse_master_keys
from logicnet.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("LOGICNET_DATA_DIR", str(BASE_DIR / ".data")))

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

if not DEBUG:
    missing = [n for n, v in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not v]
    if missing:
        raise ImproperlyConfigured(f"DEBUG is off, so these must be set: {', '.join(missing)} (see .env.example)")
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

# --- Applications -------------------------------------------------------------------------

INSTALLED_APPS = [
    "logicnet.apps.LogicnetAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for the TemplatesSetting renderer below
    "allauth",
    "allauth.account",
    "allauth.usersessions",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "csp",
    "logicnet.apps.LogicnetConfig",
    "logicnet.audit",
    "logicnet.jobs",
    "logicnet.encryption",
    "logicnet.personal_data",
    "logicnet.bulk",
    "accounts",
    "contacts",
    "activity",  # interactions and tasks, linked to contacts, companies and deals
    "deals",
    "privacy",
    "usage",  # Logicnet's own cookies and usage data (consent banner, recently used)
    "breaches",
    "consent",
    "retention",
    "notices",
    "imports",
    "billing",  # plans, subscriptions, Stripe
    "support",  # the support inbox and organizations' time-limited support access
    "announcements",  # Logicnet's announcements to account holders, product-news consent
    "import_export",  # bulk work in the admin (organizations' metadata)
    "exports",  # exports of the CRM's lists (CSV, XLSX), as jobs
    "demo",  # above every product app: its seed writes through all of them
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "logicnet.no_store.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Acts for the signed-in user (row policies keyed by app.user_id); before OTPMiddleware.
    "logicnet.tenancy.middleware.ActingUserMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SessionActivityMiddleware",  # allauth's UserSessionsMiddleware, once a minute
    "accounts.middleware.TwoFactorMiddleware",
    # Reads the cookie choice; records a feature used only with analytics consent. Above the
    # organization middleware, so it sees the organization once that one's view has run.
    "usage.middleware.CookieChoiceMiddleware",
    "logicnet.tenancy.middleware.OrganizationMiddleware",
]

ROOT_URLCONF = "logicnet.urls"
WSGI_APPLICATION = "logicnet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "accounts.context_processors.navigation",
                "usage.context_processors.cookie_banner",
                "notices.context_processors.policy_notice",
                "announcements.context_processors.announcement_banners",
            ],
        },
    },
]

# Widgets render through the project's templates, so templates/django/forms/widgets/ can
# replace Django's own (select and checkbox lists without an include per option); the
# common widgets, labels and error lists are written in Python with the same markup (a
# template per widget was a third of the contacts list's CPU time; logicnet/form_renderer.py).
FORM_RENDERER = "logicnet.form_renderer.PythonFormRenderer"

# --- Database -----------------------------------------------------------------------------
# DATABASE_URL names the owner role: it runs migrations (manage.py chooses it for the
# commands in OWNER_COMMANDS). Every other process connects as the least-privilege
# application role, which migrate provisions: not superuser, not owner, not BYPASSRLS, so
# PostgreSQL's row-level security holds even for a query that forgot its tenant filter.


def _parse_database_url(name: str, url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"{name} must be a postgresql:// URL, got {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "logicnet",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": query.pop("host", None) or parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": query,
    }


DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql"))
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` or `make test`, which start an embedded "
        "PostgreSQL, or set DATABASE_URL (see .env.example)."
    )
DATABASE_OWNER = _parse_database_url("DATABASE_URL", DATABASE_URL)
DATABASE_APP_USER = env_str("DATABASE_APP_USER", "logicnet_app")
DATABASE_APP_PASSWORD = env_str("DATABASE_APP_PASSWORD")
DATABASE_PLATFORM_ROLE = env_str("DATABASE_PLATFORM_ROLE", "logicnet_platform")
if not DEBUG and not DATABASE_APP_PASSWORD and not DATABASE_OWNER["HOST"].startswith("/"):
    # Over a local socket (the embedded server) PostgreSQL authenticates by peer/trust;
    # over the network the application role needs its own password.
    raise ImproperlyConfigured("DATABASE_APP_PASSWORD must be set when DEBUG is off")

DATABASE_ROLE = env_str("LOGICNET_DB_ROLE", "app")
if DATABASE_ROLE not in {"app", "owner"}:
    raise ImproperlyConfigured(f"LOGICNET_DB_ROLE must be app or owner, got {DATABASE_ROLE!r}")
_default = dict(DATABASE_OWNER)
if DATABASE_ROLE == "app":
    _default.update(USER=DATABASE_APP_USER, PASSWORD=DATABASE_APP_PASSWORD)
_default.update(
    ATOMIC_REQUESTS=False,  # the organization middleware owns each request's transaction
    CONN_MAX_AGE=env_int("DATABASE_CONN_MAX_AGE", 60),
    CONN_HEALTH_CHECKS=True,
)
DATABASES = {"default": _default}

# The platform role sees every organization. It is a login role of its own, and only the
# processes that do cross-tenant work get an alias for it: the admin process, the worker
# and beat (audit sealing, key retirement) and management commands. The customer-facing
# web process has no credentials for it, and the application role is a member of no role,
# so a statement injected there cannot switch to it (issue: "SET LOCAL ROLE
# logicnet_platform" read every tenant). Even where the alias exists, only an explicit
# platform_bypass (or platform_reads) sends queries to it.
LOGICNET_PROCESS = env_str("LOGICNET_PROCESS", "web")
if LOGICNET_PROCESS not in {"web", "admin", "worker", "beat", "command"}:
    raise ImproperlyConfigured(
        f"LOGICNET_PROCESS must be web, admin, worker, beat or command, got {LOGICNET_PROCESS!r}"
    )
DATABASE_PLATFORM_PASSWORD = env_str("DATABASE_PLATFORM_PASSWORD")
PLATFORM_DATABASE: str | None = None
if LOGICNET_PROCESS in {"admin", "worker", "beat", "command"}:
    if not DEBUG and not DATABASE_PLATFORM_PASSWORD and not DATABASE_OWNER["HOST"].startswith("/"):
        raise ImproperlyConfigured(f"DATABASE_PLATFORM_PASSWORD must be set for the {LOGICNET_PROCESS} process")
    PLATFORM_DATABASE = "platform"
    DATABASES[PLATFORM_DATABASE] = {
        **_default,
        "USER": DATABASE_PLATFORM_ROLE,
        "PASSWORD": DATABASE_PLATFORM_PASSWORD,
        # Same database: the test run creates it once and points this alias at it.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["logicnet.tenancy.routers.PlatformRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Encryption of personal data ---------------------------------------------------------
# Master keys wrap every organization's data key: `id:base64(32 random bytes)`, comma- or
# line-separated, newest first (rotate_master_key re-wraps under the first one). `make run`
# generates a development key in .data/secrets/; `make test` sets a test key.
ENCRYPTION_MASTER_KEYS = parse_master_keys("ENCRYPTION_MASTER_KEYS", env_str("ENCRYPTION_MASTER_KEYS"))
if not DEBUG and not ENCRYPTION_MASTER_KEYS:
    raise ImproperlyConfigured(
        "DEBUG is off, so ENCRYPTION_MASTER_KEYS (or ENCRYPTION_MASTER_KEYS_FILE) must be set (see .env.example)"
    )
# Unwrapped data keys stay in each process's memory (never Redis) this long, so a key
# destroyed or a version added by another process takes effect everywhere within it.
ENCRYPTION_KEY_CACHE_SECONDS = env_int("ENCRYPTION_KEY_CACHE_SECONDS", 60)
ENCRYPTION_KEY_CACHE_SIZE = env_int("ENCRYPTION_KEY_CACHE_SIZE", 256)
# A data key is rotated (new version, re-encryption queued) after this many encryptions: a
# quarter of the 2**32 random-nonce bound of NIST SP 800-38D. Counts reach the database in
# batches of ENCRYPTION_COUNT_FLUSH_EVERY per process, or when a request or task ends.
ENCRYPTION_KEY_ROTATE_AFTER = env_int("ENCRYPTION_KEY_ROTATE_AFTER", 2**30)
ENCRYPTION_COUNT_FLUSH_EVERY = env_int("ENCRYPTION_COUNT_FLUSH_EVERY", 1000)
# A retired data key still decrypts (values restored from a backup) this many days, then
# destroy_retired_keys wipes it (refusing while any stored value still names it).
ENCRYPTION_RETIRED_KEY_GRACE_DAYS = env_int("ENCRYPTION_RETIRED_KEY_GRACE_DAYS", 30)

# --- Audit log ------------------------------------------------------------------------------
# The key of the audit log's MAC chain (logicnet/audit). The database never holds it, so
# someone who can write to the database cannot forge an event that verifies. At least 32
# characters; keep it backed up apart from the database backups (without it the log can no
# longer be verified, though nothing is lost). `make run` and `make test` generate one.
AUDIT_MAC_KEY = env_str("AUDIT_MAC_KEY")
if not AUDIT_MAC_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DEBUG is off, so AUDIT_MAC_KEY (or AUDIT_MAC_KEY_FILE) must be set (see .env.example)"
        )
    AUDIT_MAC_KEY = "insecure-development-audit-key-only-for-debug-mode"
if len(AUDIT_MAC_KEY) < 32:
    raise ImproperlyConfigured("AUDIT_MAC_KEY must be at least 32 characters long")
# Each sealing run appends the chain's head, signed, here (and to the log): a copy of the
# chain outside the database, checked by verify_audit_log.
AUDIT_ANCHOR_FILE = Path(env_str("AUDIT_ANCHOR_FILE", str(DATA_DIR / "audit-anchors.log")))
# Events older than this many months are dropped behind a signed checkpoint (beat, daily).
AUDIT_RETENTION_MONTHS = env_int("AUDIT_RETENTION_MONTHS", 24)
# How long one sealing run waits for writers still in flight below the newest event id.
AUDIT_SEAL_WAIT_SECONDS = env_int("AUDIT_SEAL_WAIT_SECONDS", 2)

# --- Redis: cache, rate limits, Celery broker ----------------------------------------------

REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Use `make run` or `make test`, which start an embedded "
        "Redis, or set REDIS_URL (see .env.example)."
    )
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw"):
    # Parallel test processes each get their own Redis database, so one process's Celery
    # worker never takes a task queued by another (whose test database it cannot see).
    REDIS_URL = f"{REDIS_URL.rsplit('/', 1)[0]}/{1 + int(_xdist_worker[2:])}"

CACHES = {
    "default": {
        # Django's Redis cache, served from process memory while Redis is unreachable, so an
        # outage costs no error page; rate limits then hold per process (logicnet/cache.py).
        "BACKEND": "logicnet.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "logicnet",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

# --- Celery --------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # results live in the job row, not in Redis
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600}  # > the longest task
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "logicnet.heartbeat", "schedule": 15.0},
    "requeue-stalled-jobs": {"task": "logicnet.requeue_stalled_jobs", "schedule": 60.0},
    "imports-delete-expired-uploads": {
        "task": "imports.delete_expired_uploads",
        "schedule": crontab(hour=3, minute=40),
    },
    "send-task-reminders": {"task": "activity.send_task_reminders", "schedule": 60.0},
    "flush-contact-views": {"task": "contacts.flush_contact_views", "schedule": 10.0},
    "destroy-retired-keys": {"task": "encryption.destroy_retired_keys", "schedule": 24 * 3600.0},
    "seal-audit-log": {"task": "audit.seal_audit_log", "schedule": 10.0},
    "drop-expired-audit-events": {"task": "audit.drop_expired_audit_events", "schedule": 24 * 3600.0},
    "delete-expired-consent-signups": {"task": "consent.delete_expired_signups", "schedule": 3600.0},
    # Shortly after midnight in TIME_ZONE (CELERY_TIMEZONE below): on the day a person
    # turns sixteen, the flag follows.
    "refresh-minor-flags": {"task": "contacts.refresh_minor_flags", "schedule": crontab(hour=0, minute=5)},
    "delete-expired-exports": {"task": "accounts.delete_expired_exports", "schedule": 900.0},
    "privacy-request-mail": {"task": "privacy.sweep_request_mail", "schedule": 60.0},
    "privacy-expired-packages": {"task": "privacy.delete_expired_packages", "schedule": 3600.0},
    "account-packages-and-deletions": {"task": "accounts.sweep_account_privacy", "schedule": 900.0},
    # Usage events past 13 months, cookie-choice devices past 90 days, sessions past theirs.
    "usage-retention": {"task": "usage.sweep_usage_retention", "schedule": crontab(hour=3, minute=20)},
    # The retention sweep, one job per organization, at night in TIME_ZONE (the quiet hours).
    "retention-nightly-sweep": {"task": "retention.start_nightly_sweeps", "schedule": crontab(hour=2, minute=30)},
    "notices-mail": {"task": "notices.sweep_notices", "schedule": 600.0},
    # Stripe events stored but not processed (the broker was down when they arrived).
    "billing-pending-events": {"task": "billing.process_pending_events", "schedule": 60.0},
    "announcements-mail": {"task": "announcements.sweep_mail", "schedule": 600.0},
    # Screenshots of support threads deleted (retention, account erasure) go with them.
    "support-screenshots": {"task": "support.delete_orphan_screenshots", "schedule": crontab(hour=3, minute=40)},
    "delete-expired-crm-exports": {"task": "exports.delete_expired_exports", "schedule": 3600.0},
    # The triggers keep the deal totals current; the recount checks them against the deals.
    "recount-deal-totals": {"task": "deals.recount_totals", "schedule": crontab(hour=3, minute=50)},
}
WORKER_HEARTBEAT_MAX_AGE = env_int("WORKER_HEARTBEAT_MAX_AGE", 90)
# A job's message still unclaimed this long after it was sent is sent again by the
# stalled-job check; shorter would pile duplicates behind a long queue.
JOB_RESEND_AFTER_SECONDS = 600
# How long a progress report waits for a lock on its job row before failing loudly.
JOB_PROGRESS_LOCK_TIMEOUT_MS = 5000

# --- Tenancy -------------------------------------------------------------------------------
# logicnet/ names the product's models and rules only here (see logicnet/tenancy/organizations.py).
TENANCY_ORGANIZATION_MODEL = "accounts.Organization"
TENANCY_MEMBERSHIP_MODEL = "accounts.Membership"
# Checked after membership, before any view of an organization runs: (request, organization) -> response or None.
TENANCY_ACCESS_GATES = ["accounts.middleware.organization_two_factor_gate"]
# The highest role an organization's members may act with, whatever their membership says:
# (organization) -> role or None. Billing's read-only mode (payment overdue past its grace).
TENANCY_ROLE_LIMITS = ["billing.limits.role_limit"]
# Apps whose every concrete model must carry an organization (logicnet.E003, logicnet/checks.py).
TENANCY_APPS = ["contacts", "deals", "privacy", "consent", "retention", "imports", "billing", "bulk"]
# Models of those apps that hold no organization, each with its reason.
TENANCY_EXEMPT_MODELS: dict[str, str] = {
    "billing.Plan": "plans are the platform's, the same for every organization",
    "billing.StripeEvent": "stored before anyone knows whose it is; holds no personal value (billing/services.py)",
}
# Tables without an organization whose rows belong to one user: the application role sees
# and changes only the acting user's rows (`app.user_id`, logicnet/tenancy/rls.py). A model
# without a user field is owned through its foreign key to another one listed here. Every
# other table that names a user is listed, with its reason, in rls.USER_TABLES_OUTSIDE_POLICIES.
TENANCY_USER_OWNED_MODELS = [
    "accounts.AccountDataPackage",
    "accounts.AuthenticatorDevice",
    "accounts.BackupCodeDevice",
    "accounts.BackupCode",
    "otp_totp.TOTPDevice",
    "otp_static.StaticDevice",
    "otp_static.StaticToken",
    "account.EmailAddress",
    "account.EmailConfirmation",
    "usersessions.UserSession",
    "admin.LogEntry",
    "notices.PolicyAcceptance",
    "support.SupportRequest",
    "support.SupportMessage",
    "announcements.AnnouncementDelivery",
    "announcements.AnnouncementDismissal",
    "announcements.MarketingConsent",
]
# The model `data_map --contact` looks a contact up in.
PERSONAL_DATA_CONTACT_MODEL = "contacts.Contact"

# --- Accounts ------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Backup codes are stored as PBKDF2-SHA256 hashes (salted per device): a leaked table must
# not give 40-bit codes away to a fast brute force.
TWO_FACTOR_BACKUP_CODE_ITERATIONS = env_int("TWO_FACTOR_BACKUP_CODE_ITERATIONS", 200_000)
if env_bool("LOGICNET_FAST_PASSWORD_HASHER"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # tests only
    TWO_FACTOR_BACKUP_CODE_ITERATIONS = 1_000

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Hashes the user's email addresses acting for that user (their rows are walled, see the class).
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "accounts.password_reset.PasswordResetTokenGenerator"  # noqa: S105
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Logicnet CRM] "
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# Failed sign-ins (allauth's rate limits, kept in Redis; accounts/sign_in_throttle.py).
# Never per account alone: "5/5m/key" let anyone lock a user's right password out by typing
# five wrong ones. Instead: per client address across accounts (credential stuffing), per
# account and client (address, or a device that signed in before) with a cool-down that a
# completed sign-in (second factor, or a code mailed to the user) clears, and per account
# from unknown clients only, much higher (a distributed guessing campaign is capped at that
# many guesses per window; known devices and the mailed code always work).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("RATE_LIMIT_LOGIN_FAILED", "20/m/ip"),
    "login_failed_client": "5/5m/key",
    "login_failed_account": "100/h/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
if any(rate.strip().endswith("/key") for rate in ACCOUNT_RATE_LIMITS["login_failed"].split(",")):
    # The old default "20/m/ip,5/5m/key" may linger in a deployment's environment.
    raise ImproperlyConfigured(
        "RATE_LIMIT_LOGIN_FAILED must not limit per account (/key): anyone could lock the right "
        "password out with wrong ones. Per-account limits are built in (see .env.example)."
    )
# The way back in while a client is cooling down: a one-time code mailed to the account's
# address, typed in the same browser (so a code in a forwarded or intercepted mail is useless
# to whoever did not ask for it); the second factor is still required afterwards.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# Public per-organization pages (/p/<org_slug>/, logicnet/tenancy/public.py): requests per
# client address (as allauth determines it), and per organization across all addresses.
PUBLIC_RATE_LIMITS = {"client": "60/m", "organization": "1200/m"}
USERSESSIONS_TRACK_ACTIVITY = True
# The reverse proxies whose X-Forwarded-For is believed (addresses or CIDR blocks, comma-
# separated); empty: REMOTE_ADDR is the client. Rate limits and the audit log use the result.
TRUSTED_PROXIES = parse_trusted_proxies("TRUSTED_PROXIES", env_list("TRUSTED_PROXIES"))
# The publication date of version 1 of the privacy policy (notices/migrations/0002); later
# versions are published from the admin (notices.PolicyVersion).
PRIVACY_POLICY_VERSION = env_str("PRIVACY_POLICY_VERSION", "2026-11-01")
# Submissions of the public data-subject request form, per client address and per email
# address (on top of PUBLIC_RATE_LIMITS, which count every public page).
PRIVACY_REQUEST_RATE_LIMITS = {"client": "5/h", "email": "3/h"}
# Sign-ups through an organization's consent form (double opt-in), per client address and
# per email address (each sends a confirmation mail to that address).
CONSENT_SIGNUP_RATE_LIMITS = {"client": "10/h", "email": "3/h"}
# Named in every refusal (GDPR Art. 12(4), 77): where the person may complain.
PRIVACY_SUPERVISORY_AUTHORITY = env_str(
    "PRIVACY_SUPERVISORY_AUTHORITY",
    "ANSPDCP, Autoritatea Națională de Supraveghere a Prelucrării Datelor cu Caracter Personal, www.dataprotection.ro",
)
# Where people without an account write to exercise their rights about data Logicnet
# controls (the privacy policy at /privacy/ names it); account holders use /account/privacy/.
PRIVACY_CONTACT_EMAIL = env_str("PRIVACY_CONTACT_EMAIL", "privacy@logicnet.example")
# Logicnet's own data-subject requests (account holders, visitors of its site), made on
# /privacy/, are kept under one organization row standing for Logicnet as controller, with this
# slug (customers' slugs always end in a random suffix, so none can take it) and no members.
PLATFORM_PRIVACY_SLUG = env_str("PLATFORM_PRIVACY_SLUG", "logicnet")
PLATFORM_CONTROLLER_NAME = env_str("PLATFORM_CONTROLLER_NAME", "Logicnet")
MINIMUM_AGE = 16

OTP_TOTP_ISSUER = "Logicnet CRM"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 7)

# --- Sessions, cookies, security headers -----------------------------------------------------

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 14 * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The cookie banner (usage/): the visitor's choice is kept in this first-party cookie (a
# necessary one) and recorded. A new COOKIE_NOTICE_VERSION asks everyone again; so does
# the cookie's expiry (6 months, then the banner returns).
COOKIE_CHOICE_COOKIE_NAME = "logicnet_cookies"
# Both are part of the notice people read (the privacy policy names them): changed in code,
# with the policy's text, not per deployment.
COOKIE_CHOICE_MAX_AGE = 180 * 24 * 3600
COOKIE_NOTICE_VERSION = "2026-12-01"
# Answers to the banner recorded per client address (each is a row of proof).
COOKIE_CHOICE_RATE_LIMIT = "60/h"
_https = env_bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=_https)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Strict Content-Security-Policy: scripts only from our own origin (vendored under
# static/), never inline; styles likewise. htmx is configured not to inject inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Billing (Stripe) ---------------------------------------------------------------------------
# Billing is on only when both keys are set; without them every organization is on an
# unlimited plan and the billing page says payments are not configured.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# Seconds a webhook signature stays acceptable (Stripe's default tolerance against replays).
STRIPE_WEBHOOK_TOLERANCE = env_int("STRIPE_WEBHOOK_TOLERANCE", 300)
# Where Stripe's library sends its requests; only tests change it (a local fake server).
STRIPE_API_BASE = env_url("STRIPE_API_BASE", "https://api.stripe.com", schemes=("https", "http"))
# Stripe price ids per plan, interval and currency: STRIPE_PRICE_PRO_MONTHLY_EUR and so on.
STRIPE_PRICES = {
    f"{plan}:{interval}:{currency}": env_str(f"STRIPE_PRICE_{plan}_{interval}_{currency}".upper())
    for plan in ("pro", "business")
    for interval in ("monthly", "yearly")
    for currency in ("eur", "ron")
}
BILLING_ENABLED = bool(STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)
# Days an organization keeps working normally after a payment fails (or after canceling)
# before it becomes read-only (or falls back to the free plan). Nothing is ever deleted.
BILLING_GRACE_DAYS = env_int("BILLING_GRACE_DAYS", 14)

# --- Mail ----------------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Logicnet CRM <no-reply@logicnet.ro>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalization ------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ro", _("Romanian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Bucharest"
CELERY_TIMEZONE = TIME_ZONE  # beat's crontab entries are in the platform's local time
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
# Parallel test processes have separate databases whose job ids collide: separate folders too.
EXPORTS_DIR = DATA_DIR / "exports" / _xdist_worker if _xdist_worker else DATA_DIR / "exports"
# How long a finished export's file (personal data in plaintext) stays downloadable before
# the beat sweep deletes it (GDPR Art. 5(1)(e)).
EXPORT_RETENTION = timedelta(hours=24)
# Data-subject packages (access, portability), encrypted with the organization's key; kept 30 days.
PRIVACY_PACKAGES_DIR = DATA_DIR / "privacy-packages" / _xdist_worker if _xdist_worker else DATA_DIR / "privacy-packages"
# Account holders' own data packages ("download my data"), sealed with the platform key.
ACCOUNT_PACKAGES_DIR = DATA_DIR / "account-packages" / _xdist_worker if _xdist_worker else DATA_DIR / "account-packages"
ACCOUNT_PACKAGE_RETENTION = timedelta(days=30)
# Screenshots attached to support requests, sealed with the platform key.
SUPPORT_FILES_DIR = DATA_DIR / "support" / _xdist_worker if _xdist_worker else DATA_DIR / "support"
ACCOUNT_PACKAGE_LINK_VALID = timedelta(hours=72)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Request lines without their query strings (logicnet/log_filters.py).
    "filters": {
        "strip_query": {"()": "logicnet.log_filters.StripQueryStringFilter"},
        "refusals_on_one_line": {"()": "logicnet.log_filters.RefusalsOnOneLine"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["strip_query"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own default handler on "django" (console, when DEBUG) is dropped: its records
        # reach the root handler like every other, so each is printed once.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "INFO"},
        # runserver's access lines: Django's default handler for this logger is replaced
        # by the filtered console one (propagate=False keeps each line printed once).
        "django.server": {"handlers": ["console"], "filters": ["strip_query"], "level": "INFO", "propagate": False},
        "django.request": {"filters": ["strip_query", "refusals_on_one_line"]},
    },
}
