"""Django settings for Amends, read from environment variables (see README: Configuration).

With no variables set, Amends runs embedded: an SQLite file under ``./var/`` in WAL mode and a
secret key generated on first run and kept beside it.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import phonenumbers

from amends.core import urgent_help
from amends.env import (
    ConfigurationError,
    env_bool,
    env_int,
    env_list,
    env_path,
    env_secret,
    env_str,
)

DATA_DIR = env_path("AMENDS_DATA_DIR", Path.cwd() / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> tuple[str, bool]:
    """Return (key, generated): a configured key, or one generated once and kept in DATA_DIR."""
    configured = env_secret("SECRET_KEY")
    if configured:
        return configured, False
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    return key_file.read_text(encoding="utf-8").strip(), True


SECRET_KEY, SECRET_KEY_GENERATED = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The base of every link in messages. Unset, `amends serve`/`demo --port N` set it (and the
# status page's default address) to where they serve: see link_to in commands/serve.py.
SITE_URL = env_str("AMENDS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# "au" (the shipped ACMA preset) or the path of a JSON file of thresholds (see outages).
AMENDS_CLASSIFICATION = env_str("AMENDS_CLASSIFICATION", "au")
# Alert intake: which alert label means which scope kind, and whether "resolved" restores.
AMENDS_INTAKE_LABELS = env_str(
    "AMENDS_INTAKE_LABELS",
    "element=element,postcode=postcode,state=state,locality=locality,product=product",
)
AMENDS_INTAKE_AUTO_RESTORE = env_bool("AMENDS_INTAKE_AUTO_RESTORE", False)
# Notices to more recipients than this need a second person's approval.
AMENDS_APPROVAL_THRESHOLD = env_int("AMENDS_APPROVAL_THRESHOLD", 100, minimum=0)
# What messages say about the operator itself.
AMENDS_OPERATOR_NAME = env_str("AMENDS_OPERATOR_NAME", "Amends Telecom")
AMENDS_HELP_LINE = env_str("AMENDS_HELP_LINE", "13 00 00")
# The country whose emergency-call facts messages give (amends.core.urgent_help ships them
# per country and language); AMENDS_URGENT_HELP replaces the English text.
AMENDS_COUNTRY = env_str("AMENDS_COUNTRY", "AU").upper()
if AMENDS_COUNTRY not in urgent_help.COUNTRIES:
    raise ConfigurationError(
        f"AMENDS_COUNTRY={AMENDS_COUNTRY!r}: urgent-help text is shipped for "
        f"{', '.join(urgent_help.COUNTRIES)} only"
    )
AMENDS_URGENT_HELP = env_str(
    "AMENDS_URGENT_HELP", urgent_help.LONG[AMENDS_COUNTRY][urgent_help.FALLBACK_LANGUAGE]
)
# The languages customers are served in: messages, keyword replies and translations of the
# operator's own words. Each needs shipped templates (or the operator's own); customers in any
# other language get English, and the notice preview says so.
AMENDS_LANGUAGES = env_list("AMENDS_LANGUAGES", ["en", "zh", "vi"])
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
for _language in AMENDS_LANGUAGES:
    if not _LANGUAGE_CODE.fullmatch(_language):
        raise ConfigurationError(
            f"AMENDS_LANGUAGES: {_language!r} is not a lower-case language code such as zh or vi"
        )
if "en" not in AMENDS_LANGUAGES:
    raise ConfigurationError(
        "AMENDS_LANGUAGES must include en: English is what every other language falls back to"
    )
# What one SMS segment costs, for the notice preview's estimate (cents).
AMENDS_SMS_SEGMENT_COST_CENTS = env_int("AMENDS_SMS_SEGMENT_COST_CENTS", 8, minimum=0)
# Dispatch: batch size, worker lease, retries with backoff, quiet hours cap, re-check interval.
AMENDS_DISPATCH_BATCH = env_int("AMENDS_DISPATCH_BATCH", 500, minimum=1)
AMENDS_DELIVERY_LEASE_SECONDS = env_int("AMENDS_DELIVERY_LEASE_SECONDS", 120, minimum=1)
AMENDS_MAX_ATTEMPTS = env_int("AMENDS_MAX_ATTEMPTS", 8, minimum=1)
AMENDS_RETRY_BASE_SECONDS = env_int("AMENDS_RETRY_BASE_SECONDS", 10, minimum=0)
AMENDS_RETRY_MAX_SECONDS = env_int("AMENDS_RETRY_MAX_SECONDS", 1800, minimum=1)
AMENDS_CUSTOMER_HOURLY_CAP = env_int("AMENDS_CUSTOMER_HOURLY_CAP", 4, minimum=1)
AMENDS_DISPATCH_RECHECK_SECONDS = env_int("AMENDS_DISPATCH_RECHECK_SECONDS", 60, minimum=1)
DEFAULT_PHONE_REGION = env_str("AMENDS_PHONE_REGION", "AU").upper()
if not phonenumbers.country_code_for_region(DEFAULT_PHONE_REGION):
    raise ConfigurationError(
        f"AMENDS_PHONE_REGION={DEFAULT_PHONE_REGION!r} is not a region code such as AU or GB"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "amends.core",
    "amends.network",
    "amends.outages",
    "amends.comms",
    "amends.statuspage",
    "amends.remedy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "amends.urls"
WSGI_APPLICATION = "amends.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    default_url = f"sqlite:///{DATA_DIR / 'amends.sqlite3'}"
    url = env_str("DATABASE_URL", "") or default_url
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:
        raise ConfigurationError(f"DATABASE_URL is not a database URL: {exc}") from None
    engine = config["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # WAL lets the status page and console read while a worker writes; IMMEDIATE takes
            # the write lock at BEGIN so concurrent writers queue instead of failing mid-way.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        # A file (not memory) so child processes in tests can open it; per process so that two
        # test runs on one checkout do not share it.
        config["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
    elif engine != "django.db.backends.postgresql":
        raise ConfigurationError(
            f"DATABASE_URL uses {engine}; Amends supports sqlite:/// and postgres:// only"
        )
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console-home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-au"
TIME_ZONE = env_str("AMENDS_TIME_ZONE", "Australia/Sydney")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the apps' static folders: no collectstatic step for the embedded mode.
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"refusals": {"()": "amends.core.http.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["refusals"]},  # a 403 in one line, not a traceback
        "httpx": {"level": "WARNING"},  # one INFO line per provider request otherwise
        # A warning for every screen-only CSS rule it skips and progress lines, for each PDF.
        "weasyprint": {"level": "ERROR"},
    },
}

# --- Channels (comms/channels) ---
# Which provider serves each capability, over the embedded outbox defaults
# ("email=smtp,sms=twilio"), and messages per second per capability ("sms=30").
AMENDS_CHANNELS = env_str("AMENDS_CHANNELS", "")
AMENDS_CHANNEL_RATES = env_str("AMENDS_CHANNEL_RATES", "")
# Seconds to wait for an HTTP provider (Postmark, Twilio, HTTP SMS, webhooks) to answer.
AMENDS_CHANNEL_TIMEOUT = env_int("AMENDS_CHANNEL_TIMEOUT", 10, minimum=1)

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Amends <noreply@localhost>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigurationError(
        "set EMAIL_USE_TLS (STARTTLS, port 587) or EMAIL_USE_SSL (465), not both"
    )
# Django waits forever by default; a stuck SMTP server must not hold a worker's lease.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)

ANYMAIL = {
    "POSTMARK_SERVER_TOKEN": env_secret("POSTMARK_SERVER_TOKEN"),
    "POSTMARK_API_URL": env_str("POSTMARK_API_URL", "https://api.postmarkapp.com/"),
    # "user:password" the ESP sends as HTTP basic auth to /comms/anymail/…; while it is empty
    # those webhooks are refused (anymail alone would accept anyone: see comms/hooks.py).
    "WEBHOOK_SECRET": env_secret("ANYMAIL_WEBHOOK_SECRET"),
}
if ANYMAIL["WEBHOOK_SECRET"] and ":" not in ANYMAIL["WEBHOOK_SECRET"]:
    raise ConfigurationError("ANYMAIL_WEBHOOK_SECRET must be user:password (two random strings)")

AMENDS_TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
AMENDS_TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN")
# A sender number or alphanumeric ID, or a Messaging Service SID ("MG…").
AMENDS_TWILIO_FROM = env_str("TWILIO_FROM", "")
AMENDS_TWILIO_API_URL = env_str("TWILIO_API_URL", "https://api.twilio.com")

AMENDS_SMS_HTTP_URL = env_str("AMENDS_SMS_HTTP_URL", "")
AMENDS_SMS_HTTP_TOKEN = env_secret("AMENDS_SMS_HTTP_TOKEN")
AMENDS_SMS_HTTP_TEMPLATE = env_str(
    "AMENDS_SMS_HTTP_TEMPLATE",
    '{"to": "{to}", "text": "{text}", "idempotency_key": "{idempotency_key}"}',
)
AMENDS_SMS_HTTP_BATCH = env_bool("AMENDS_SMS_HTTP_BATCH", False)
AMENDS_SMS_HTTP_BATCH_SIZE = env_int("AMENDS_SMS_HTTP_BATCH_SIZE", 500, minimum=1)

# Standard Webhooks signing secret, "whsec_<base64>".
AMENDS_WEBHOOK_SECRET = env_secret("AMENDS_WEBHOOK_SECRET")
# Only for tests and closed networks: lets webhooks reach loopback and private addresses.
AMENDS_WEBHOOK_ALLOW_PRIVATE = env_bool("AMENDS_WEBHOOK_ALLOW_PRIVATE", False)

# Apprise URLs of the operator's social and chat accounts, comma-separated (they hold tokens).
AMENDS_SOCIAL_URLS = [
    url.strip() for url in env_secret("AMENDS_SOCIAL_URLS").split(",") if url.strip()
]

# Twilio's SDK logs every API request at INFO: ten lines per SMS sent.
LOGGING["loggers"]["twilio.http_client"] = {"level": "WARNING"}

# --- Status page (statuspage) ---
# Publish root: complete sites in versions/ and a `current` symlink, served at /status/.
AMENDS_STATUSPAGE_DIR = env_path("AMENDS_STATUSPAGE_DIR", DATA_DIR / "statuspage")
# The page's public address, for absolute links in the feed and JSON (a CDN may serve it).
AMENDS_STATUSPAGE_URL = env_str("AMENDS_STATUSPAGE_URL", f"{SITE_URL}/status/").rstrip("/") + "/"
# Published versions kept on disk, the current one included (at least 2: readers finish).
AMENDS_STATUSPAGE_KEEP = env_int("AMENDS_STATUSPAGE_KEEP", 5, minimum=2)
# Seconds browsers and CDNs may reuse a page before revalidating (then a 304 via the ETag).
AMENDS_STATUSPAGE_MAX_AGE = env_int("AMENDS_STATUSPAGE_MAX_AGE", 30, minimum=0)
# Days a resolved outage stays on the front page, in every language and in the lookup.
AMENDS_STATUSPAGE_RECENT_DAYS = env_int("AMENDS_STATUSPAGE_RECENT_DAYS", 7, minimum=0)
# Days of history pages and register (the regulator's outage register: at least two years).
AMENDS_STATUSPAGE_HISTORY_DAYS = env_int("AMENDS_STATUSPAGE_HISTORY_DAYS", 730, minimum=1)
# Statuspage components are product kinds × states; empty: the kinds sold, every state.
AMENDS_STATUSPAGE_COMPONENT_KINDS = env_list("AMENDS_STATUSPAGE_COMPONENT_KINDS", [])
AMENDS_STATUSPAGE_COMPONENT_STATES = [
    state.upper() for state in env_list("AMENDS_STATUSPAGE_COMPONENT_STATES", [])
]
# Subscriptions (the form at /status/subscribe): requests per client address an hour, and
# confirmation messages per subscriber address an hour.
AMENDS_SUBSCRIBE_REQUESTS_PER_HOUR = env_int("AMENDS_SUBSCRIBE_REQUESTS_PER_HOUR", 20, minimum=1)
AMENDS_SUBSCRIBE_CONFIRMATIONS_PER_HOUR = env_int(
    "AMENDS_SUBSCRIBE_CONFIRMATIONS_PER_HOUR", 3, minimum=1
)
# Behind a proxy, the header that carries the client's address for the per-client limits of
# every public form (subscriptions, claims): its last entry, the one our proxy added, is used
# (amends.core.http.client_ip). Empty: the connection's own address.
AMENDS_CLIENT_IP_HEADER = env_str("AMENDS_CLIENT_IP_HEADER", "").strip()
_header_letters = AMENDS_CLIENT_IP_HEADER.replace("-", "")
if AMENDS_CLIENT_IP_HEADER and not (_header_letters.isascii() and _header_letters.isalnum()):
    raise ConfigurationError(
        f"AMENDS_CLIENT_IP_HEADER={AMENDS_CLIENT_IP_HEADER!r} is not a header name such as "
        "X-Forwarded-For"
    )


# --- Remediation (remedy) ---
# Claim evidence is stored here; no URL serves it (staff download it through the console).
MEDIA_ROOT = DATA_DIR / "media"
# The public claim form: size of each evidence file (MB), how many files, submissions per
# client address per hour, and how many days back an outage can be claimed for.
AMENDS_CLAIM_MAX_FILE_MB = env_int("AMENDS_CLAIM_MAX_FILE_MB", 10, minimum=1)
AMENDS_CLAIM_MAX_FILES = env_int("AMENDS_CLAIM_MAX_FILES", 5, minimum=1)
AMENDS_CLAIM_ATTEMPTS_PER_HOUR = env_int("AMENDS_CLAIM_ATTEMPTS_PER_HOUR", 10, minimum=1)
AMENDS_CLAIM_OUTAGE_DAYS = env_int("AMENDS_CLAIM_OUTAGE_DAYS", 90, minimum=1)
# Claims approved for more than this many dollars need a second person (approver role).
AMENDS_CLAIM_APPROVAL_THRESHOLD = env_int("AMENDS_CLAIM_APPROVAL_THRESHOLD", 1000, minimum=0)
# Foregone interest on refunds paid late, in % a year (simple interest from the outage's end
# to payment): the RBA cash rate (3.60 %) + 6, as ASIC RG 277 suggests when the actual loss
# cannot be computed. A policy may name its own rate.
AMENDS_REMEDY_INTEREST_RATE = env_str("AMENDS_REMEDY_INTEREST_RATE", "9.60").strip()
if not AMENDS_REMEDY_INTEREST_RATE.replace(".", "", 1).isdigit() or not (
    0 <= float(AMENDS_REMEDY_INTEREST_RATE) <= 100
):
    raise ConfigurationError(
        f"AMENDS_REMEDY_INTEREST_RATE={AMENDS_REMEDY_INTEREST_RATE!r} is not a percentage "
        "between 0 and 100 (e.g. 9.60)"
    )
