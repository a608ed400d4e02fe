"""Settings, driven by the environment.

``DATABASE_URL`` and ``REDIS_URL`` name the PostgreSQL and Redis servers.  When they
are unset, the values written by ``dev.py`` for its embedded servers
(``var/runtime.env``) are used, so ``python manage.py ...`` works while
``python3 dev.py start`` is running.
"""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _runtime_env() -> dict[str, str]:
    path = BASE_DIR / "var" / "runtime.env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


_RUNTIME = _runtime_env()


def env(name: str, default: str = "") -> str:
    return os.environ.get(name) or _RUNTIME.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    return default if value == "" else value.lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
# A development key is derived when none is given; production sets DJANGO_SECRET_KEY.
SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-insecure-" + str(BASE_DIR))
ALLOWED_HOSTS = [h for h in env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("DJANGO_CSRF_TRUSTED_ORIGINS").split(",") if o]

# Served over HTTPS (usually behind a TLS-terminating proxy): secure cookies, HSTS and
# redirects.  Off by default so the local demo works over plain http.
if env_bool("CRM_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("CRM_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CRM_TRUST_X_FORWARDED_FOR = env_bool("CRM_TRUST_X_FORWARDED_FOR")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "bootstrap",
    "django_htmx",
    # The base: every other app may use these, they use none of the others.
    "crm.core",
    "crm.accounts",
    "crm.audit",
    "crm.access",
    # The domain apps, in the order of the API's index.
    "customers",
    "transactions",
    "feedback",
    "campaigns",
    "tiers",
    "risk",
    # What brings them together: the workspace pages, the console, the demo data.
    "workspace",
    "imports",
    "duplicates",
    "crm.console",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.audit.middleware.AuditContextMiddleware",
    "crm.core.middleware.NulRefusedMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username/address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "crm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "crm.accounts.views.unread_notifications",
                "crm.access.changes.pending_approvals",
            ],
        },
    },
]

# ---------------------------------------------------------------- database & cache
DATABASE_URL = env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
DATABASES["default"].setdefault("TEST", {})["NAME"] = env("CRM_TEST_DATABASE_NAME", "test_crm")
TESTING = "pytest" in sys.modules
# PostgreSQL compiles a statement it expects to be costly to machine code first (JIT).
# That pays for an hours-long report; here the costly-looking statements are short ones
# it misjudged, and the compiling took longer than running them: 130-330 ms more on
# searches and filters of a million customers' orders (413 ms for one rep's search),
# while the tier and risk engines ran as fast without it.
_SESSION = [f"-c jit={'on' if env_bool('CRM_DATABASE_JIT') else 'off'}"]
if TESTING:
    # Transactional tests empty the tables between tests with TRUNCATE, which the audit
    # table refuses unless the session declares maintenance (see audit migration 0003).
    _SESSION.append("-c crm.audit_maintenance=on")
_OPTIONS = DATABASES["default"].setdefault("OPTIONS", {})
_OPTIONS["options"] = " ".join([_OPTIONS.get("options", ""), *_SESSION]).strip()

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Each test run counts its own login failures and request rates.
        "KEY_PREFIX": f"crm-test-{os.getpid()}" if TESTING else env("CRM_CACHE_PREFIX", "crm"),
        "TIMEOUT": 300,
    }
}

# ---------------------------------------------------------------- i18n
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "crm" / "locale"]
TIME_ZONE = env("CRM_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
CRM_DEFAULT_CURRENCY = "CNY"
# Service queues: feedback is answered within this many hours of being received, and a
# service record not resolved at the visit is followed up within this many days (unless
# it names its own date); past that, the queues show it as overdue.
CRM_FEEDBACK_RESPONSE_HOURS = float(env("CRM_FEEDBACK_RESPONSE_HOURS", "24"))
CRM_SERVICE_FOLLOW_UP_DAYS = int(env("CRM_SERVICE_FOLLOW_UP_DAYS", "3"))

# ---------------------------------------------------------------- input limits
# What every channel accepts (crm.core.validation, crm.core.parsers).  Dates and times of
# records lie in a fixed business range: fixed, so that a record valid today stays valid
# (a range relative to today would turn old records invalid as years pass); wide enough
# for the birthdays of contacts and contracts running past 2100; and inside the years in
# which every date has a local time in every zone.
CRM_DATE_MIN = date.fromisoformat(env("CRM_DATE_MIN", "1900-01-01"))
CRM_DATE_MAX = date.fromisoformat(env("CRM_DATE_MAX", "2199-12-31"))
# The dates of the business (orders, follow-ups, services, feedback, campaigns): not
# before this day, and a planned one at most this many years ahead.
CRM_BUSINESS_DATE_MIN = date.fromisoformat(env("CRM_BUSINESS_DATE_MIN", "1980-01-01"))
CRM_BUSINESS_YEARS_AHEAD = int(env("CRM_BUSINESS_YEARS_AHEAD", "10"))
# The next follow-up a logged call or visit proposes is due this many days later.
CRM_FOLLOW_UP_DAYS = int(env("CRM_FOLLOW_UP_DAYS", "7"))
# API lists count their rows up to this many; past it, "count" is this and "count_capped" true.
CRM_LIST_COUNT_CAP = int(env("CRM_LIST_COUNT_CAP", "2000"))
# How often an owner confirms a customer's archive ("still right"), unless its tier says otherwise.
CRM_VERIFY_DAYS = int(env("CRM_VERIFY_DAYS", "180"))
# For how many days a merge of two customers (or two contacts) can be undone.
CRM_UNMERGE_DAYS = int(env("CRM_UNMERGE_DAYS", "30"))
# Characters of a long text (notes, descriptions, comments); short ones keep their max_length.
CRM_TEXT_MAX_LENGTH = int(env("CRM_TEXT_MAX_LENGTH", "10000"))
# Bytes of a request body (JSON, form or upload): a larger one is refused (413 on the API).
CRM_REQUEST_MAX_BYTES = int(env("CRM_REQUEST_MAX_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = CRM_REQUEST_MAX_BYTES
# Levels of nesting of a JSON body: no record needs more than a few.
CRM_JSON_MAX_DEPTH = int(env("CRM_JSON_MAX_DEPTH", "64"))
# Spreadsheet imports: the largest file taken, and the most rows of one table.
CRM_IMPORT_MAX_BYTES = int(env("CRM_IMPORT_MAX_MB", "50")) * 1024 * 1024
CRM_IMPORT_MAX_ROWS = int(env("CRM_IMPORT_MAX_ROWS", "1000000"))
# For how many days an import can be undone.
CRM_IMPORT_UNDO_DAYS = int(env("CRM_IMPORT_UNDO_DAYS", "7"))
# Rows an import writes per transaction: its progress moves, and it can be cancelled,
# a chunk at a time.
CRM_IMPORT_CHUNK_ROWS = int(env("CRM_IMPORT_CHUNK_ROWS", "1000"))
# Rows of a file checked together: an import holds no more at a time, whatever its size.
CRM_IMPORT_WINDOW_ROWS = int(env("CRM_IMPORT_WINDOW_ROWS", "5000"))
# A list export of more rows than this is written by a worker; its link is kept this long.
CRM_EXPORT_BACKGROUND_ROWS = int(env("CRM_EXPORT_BACKGROUND_ROWS", "20000"))
CRM_EXPORT_KEEP_HOURS = int(env("CRM_EXPORT_KEEP_HOURS", "24"))
# A campaign is credited with a participant's orders placed from the day of the invitation
# up to this many days after it (never an order placed before).
CRM_CAMPAIGN_ATTRIBUTION_DAYS = int(env("CRM_CAMPAIGN_ATTRIBUTION_DAYS", "90"))

# ---------------------------------------------------------------- static files
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "crm" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Deliberately slow hashing protects stored passwords, and costs a second per test user.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# ---------------------------------------------------------------- security
# Sessions end with the browser or after a working day of inactivity.
SESSION_COOKIE_AGE = int(env("CRM_SESSION_SECONDS", str(10 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Login lockout (django-axes): five failures for one username from one address lock
# that pair for 15 minutes.  Attempts are counted in Redis, shared by every worker.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = int(env("CRM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("CRM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = 1 if CRM_TRUST_X_FORWARDED_FOR else 0
AXES_VERBOSE = False

# Content Security Policy (django-csp): scripts only from this site or carrying the
# per-response nonce; no plug-ins; no framing; forms post only here.  Styles allow
# inline attributes, which the admin site uses and which cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "worker-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# ---------------------------------------------------------------- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.accounts.authentication.APITokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.access.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "crm.access.filters.PolicyFilterBackend",
        "crm.access.filters.PolicySearchFilter",
        "crm.access.filters.PolicyOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.core.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON, bounded in size and depth (CRM_REQUEST_MAX_BYTES, CRM_JSON_MAX_DEPTH).
    "DEFAULT_PARSER_CLASSES": ["crm.core.parsers.BoundedJSONParser"],
    # drf-spectacular, plus the error answers, If-Match and ETag every endpoint shares.
    "DEFAULT_SCHEMA_CLASS": "crm.core.schema.CRMAutoSchema",
    "EXCEPTION_HANDLER": "crm.core.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Counted in Redis, so the limits hold across every web worker.
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.core.throttling.AnonThrottle",
        "crm.core.throttling.UserThrottle",
        "crm.core.throttling.RevealThrottle",
    ],
}
# Requests per period, per client; "reveal" limits how fast one user may unmask values.
CRM_THROTTLE_RATES = {
    "anon": env("CRM_THROTTLE_ANON", "60/minute"),
    "user": env("CRM_THROTTLE_USER", "1200/minute"),
    "reveal": env("CRM_THROTTLE_REVEAL", "60/hour"),
}
if TESTING:
    # Tests make thousands of requests as one user; throttling is tested with its own rates.
    CRM_THROTTLE_RATES = {"anon": "100000/minute", "user": "100000/minute", "reveal": "100000/minute"}
SPECTACULAR_SETTINGS = {
    "TITLE": "Key-account CRM API",
    "DESCRIPTION": (
        "REST API of the key-account CRM. Authenticate with `Authorization: Token <key>` "
        "(see `manage.py create_api_token`). Writes to existing records require `If-Match` "
        "with the ETag of the last read. Every error is JSON `{code, message, fields?}`; each "
        "operation lists every status it can answer. Fields under the field policy may be "
        "absent (hidden) or masked for the caller's role."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StateEnum": "crm.core.choices.JobState",
        "ImportStateEnum": "imports.choices.ImportState",
        "PaymentMethodEnum": "transactions.choices.PaymentMethod",
        "SurveyMethodEnum": "feedback.choices.SurveyMethod",
        # A customer's create has a serializer of its own (customers.api): one name for both.
        "CustomerKindEnum": "customers.choices.CustomerKind",
        "CustomerSourceEnum": "customers.choices.CustomerSource",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.core.schema.postprocess_field_policy",
    ],
}

# ---------------------------------------------------------------- Celery
CELERY_BROKER_URL = REDIS_URL
# The queue tasks go to and workers read (several installations can share one broker).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "celery")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The longest a task may run, in seconds.  The longest, a part of a tier run or a risk
# scan at a million customers, takes under a minute; past the soft limit a part fails its
# job rather than being cut off.
CELERY_TASK_TIME_LIMIT = int(env("CELERY_TASK_TIME_LIMIT", "300"))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT * 9 // 10
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis hands a task out again once it has gone unacknowledged this long: that is how the
# task of a worker that died (its machine and all) comes back, so minutes, not hours.
# Twice the time limit, so that a task still at work (retries' waits of seconds included)
# is never handed out a second time; were it, a job's part would only find itself done.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every minute, each rescues a run or scan gone silent (its worker died: see
    # crm.core.jobs), so that it finishes within minutes of a worker being back; else
    # starts an evaluation when the policy's period is up, ...
    "tier-evaluation-if-due": {"task": "tiers.evaluate_if_due", "schedule": 60},
    # ... or the day's risk scan once its time (set by an admin, stored in the database)
    # has passed.
    "risk-scan-if-due": {"task": "risk.scan_if_due", "schedule": 60},
    # The tier dashboard's figures, which writers append to, folded into one row per key;
    # and each night counted again from the records.
    "compact-tier-figures": {"task": "tiers.compact_figures", "schedule": 120},
    "rebuild-tier-figures": {"task": "tiers.rebuild_figures", "schedule": crontab(minute=30, hour=2)},
    # Archive health's figures, the same way.
    "compact-archive-figures": {"task": "customers.compact_archive_figures", "schedule": 120},
    "rebuild-archive-figures": {"task": "customers.rebuild_archive_figures", "schedule": crontab(minute=40, hour=2)},
    # Exports kept past their time (CRM_EXPORT_KEEP_HOURS) are removed.
    "purge-exports": {"task": "core.purge_exports", "schedule": 3600},
    # Every Sunday at 03:00, the duplicate finder goes through the whole book.
    "find-duplicates-weekly": {"task": "duplicates.find", "schedule": crontab(minute=0, hour=3, day_of_week=0)},
}

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Where the file backend writes each e-mail (the start command uses it).
EMAIL_FILE_PATH = env("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", "crm@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("CRM_LOG_LEVEL", "INFO")},
    # Login attempts are counted quietly; lockouts are still logged as warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}

ADMIN_SITE_HEADER = _("Key-account CRM administration")
