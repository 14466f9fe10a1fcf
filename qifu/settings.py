"""Django settings for qifu.

Everything a deployment changes comes from the environment:
- DATABASE_URL     (default: SQLite file in the data directory)
- QIFU_DATA_DIR    (default: ./data next to the source tree, else ~/.qifu)
- QIFU_SECRET_KEY  (default: generated once and kept in the data directory)
- QIFU_HTTPS, QIFU_PROXY_SSL_HEADER, QIFU_PROXY_COUNT, QIFU_HSTS_*, QIFU_LOGIN_* (docs/security.md)
- QIFU_DEBUG, QIFU_ALLOWED_HOSTS, QIFU_TIME_ZONE, QIFU_STATIC_ROOT
- QIFU_WEB_WORKERS, QIFU_WEB_THREADS (`qifu serve`), QIFU_REPLICA_DATABASE_URL, QIFU_DB_PREPARE (docs/deploy.md)
- CELERY_BROKER_URL (default: none — background work runs in-process)
- QIFU_SMTP_*, QIFU_SMS_*, QIFU_DINGTALK_* (notification channels; README "Notifications and background work")
"""

import datetime
import os
import secrets
from pathlib import Path

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from qifu.lib import csp

BASE_DIR = Path(__file__).resolve().parent
_source_root = BASE_DIR.parent


def _data_dir() -> Path:
    if os.environ.get("QIFU_DATA_DIR"):
        path = Path(os.environ["QIFU_DATA_DIR"])
    elif (_source_root / "pyproject.toml").exists():
        path = _source_root / "data"
    else:
        path = Path.home() / ".qifu"
    path.mkdir(parents=True, exist_ok=True)
    return path


DATA_DIR = _data_dir()


def _secret_key() -> str:
    if os.environ.get("QIFU_SECRET_KEY"):
        return os.environ["QIFU_SECRET_KEY"]
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("QIFU_DEBUG", "") in ("1", "true", "yes")
ALLOWED_HOSTS = os.environ.get("QIFU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("QIFU_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "qifu.audit",
    "qifu.accounts",
    "qifu.org",
    "qifu.enterprises",
    "qifu.profiles",
    "qifu.workcal",
    "qifu.notify",
    "qifu.appeals",
    "qifu.supervision",
    "qifu.assessments",
    "qifu.policies",
    "qifu.bookings",
    "qifu.knowledge",
    "qifu.catalog",
    "qifu.frontdesk",
    "qifu.search",
    "qifu.scenarios",
    "qifu.front",
    "qifu.demo",
    "qifu.accounts.apps.LockoutConfig",  # django-axes, named in Chinese
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "qifu.lib.csp.ContentSecurityPolicyMiddleware",  # Django's on 6.x, the same on 5.2 (qifu/lib/csp.py)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "qifu.front.middleware.LanguageMiddleware",
    "qifu.lib.middleware.RejectNulMiddleware",  # a NUL in a URL, query or form field: 400, never 500
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qifu.audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "qifu.accounts.middleware.IdleTimeoutMiddleware",
    "qifu.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into the lockout page
]

ROOT_URLCONF = "qifu.urls"
WSGI_APPLICATION = "qifu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qifu.front.context_processors.shell",
                "qifu.lib.csp.context_processor",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'qifu.sqlite3'}",
        conn_max_age=60,
    )
}
# Under `qifu serve` (gunicorn, threads) each thread keeps at most one connection for CONN_MAX_AGE
# seconds, so a server holds at most workers × threads connections; a broken one is replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL: readers do not wait for the one writer (several server processes share the file).
    DATABASES["default"]["OPTIONS"].update({"timeout": 20, "transaction_mode": "IMMEDIATE",
                                            "init_command": "PRAGMA journal_mode=WAL"})

# A PostgreSQL read replica for the statistics (qifu/replica.py; docs/deploy.md "Scaling out").
if os.environ.get("QIFU_REPLICA_DATABASE_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["QIFU_REPLICA_DATABASE_URL"], conn_max_age=60)
    DATABASES["replica"].update(CONN_HEALTH_CHECKS=True, TEST={"MIRROR": "default"})
DATABASE_ROUTERS = ["qifu.replica.StatisticsRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("QIFU_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
# `qifu collectstatic` copies the static files here under hashed names, each with a .gz and a .br, for
# WhiteNoise or a reverse proxy to serve with a year-long immutable cache (docs/deploy.md); until it has run
# for these sources, pages name the plain files, served from the sources (qifu/lib/staticfiles.py).
STATIC_ROOT = Path(os.environ.get("QIFU_STATIC_ROOT") or DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "qifu.lib.staticfiles.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # the plain names, from the sources (60 s cache)
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "qifu.front.errors.csrf_failure"  # in Chinese, with a way back
X_FRAME_OPTIONS = "DENY"


# --- Security (docs/security.md) -------------------------------------------------------------
def _flag(name: str, default: str = "") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


# The hot paths' statements built once (qifu/lib/fastselect.py) are prepared once per connection on PostgreSQL;
# QIFU_DB_PREPARE=0 behind a connection pooler that cannot keep prepared statements (PgBouncer before 1.21).
QIFU_DB_PREPARE = _flag("QIFU_DB_PREPARE", "1")


def _proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto:https` → ("HTTP_X_FORWARDED_PROTO", "https")."""
    if not value.strip():
        return None
    name, sep, expected = value.partition(":")
    if not sep or not name.strip() or not expected.strip():
        raise ImproperlyConfigured(f"QIFU_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto:https', not {value!r}")
    return "HTTP_" + name.strip().upper().replace("-", "_"), expected.strip()


# QIFU_HTTPS=1: the site is reached over HTTPS only (directly or through a TLS-terminating proxy).
HTTPS = _flag("QIFU_HTTPS")
SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("QIFU_HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("QIFU_HSTS_INCLUDE_SUBDOMAINS", "1")
SECURE_HSTS_PRELOAD = _flag("QIFU_HSTS_PRELOAD")
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header(os.environ.get("QIFU_PROXY_SSL_HEADER", ""))
# Reverse proxies in front of qifu that append the client's address to X-Forwarded-For (0: none,
# the client is REMOTE_ADDR). Used for per-address login lockout and the audit trail.
QIFU_PROXY_COUNT = int(os.environ.get("QIFU_PROXY_COUNT", "0"))
# The statistics' covering indexes (appeals.AppealEvent) carry their INCLUDE columns on PostgreSQL only; on SQLite
# the keys alone are what counts.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if not SECURE_HSTS_PRELOAD:
    # An intranet host is never on the browsers' preload list; not asking for it is deliberate.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
if HTTPS and not SECURE_HSTS_INCLUDE_SUBDOMAINS:
    SILENCED_SYSTEM_CHECKS.append("security.W005")  # turned off on purpose with QIFU_HSTS_INCLUDE_SUBDOMAINS=0

# Content-Security-Policy on every response: scripts and styles only from this site (no inline script;
# a nonce only where Django's admin asks for one), no plug-ins, no framing, forms post only here.
# Inline style *attributes* stay allowed (style-src-attr): templates and Swagger UI use them; style and
# script *elements* need 'self' or the nonce.
SECURE_CSP = {
    "default-src": [csp.SELF],
    "script-src": [csp.SELF, csp.NONCE],
    "style-src": [csp.SELF, csp.NONCE],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": [csp.SELF, "data:"],
    "font-src": [csp.SELF, "data:"],
    "connect-src": [csp.SELF],
    "object-src": [csp.NONE],
    "base-uri": [csp.SELF],
    "form-action": [csp.SELF],
    "frame-ancestors": [csp.NONE],
}

# Sessions end after the region's idle time (region rule `session_idle_minutes`, qifu/org/config.py).
SESSION_COOKIE_AGE = 12 * 60 * 60  # and at most a working day after sign-in

# Sign-in lockout (django-axes): per account and per address, for a limited time.
AUTHENTICATION_BACKENDS = [
    "qifu.accounts.lockout.LockoutBackend",  # django-axes' lockout check, first
    "django.contrib.auth.backends.ModelBackend",
]
QIFU_LOGIN_FAILURE_LIMIT = int(os.environ.get("QIFU_LOGIN_FAILURE_LIMIT", "5"))
QIFU_LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("QIFU_LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
QIFU_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("QIFU_LOGIN_LOCKOUT_MINUTES", "30"))
AXES_ENABLED = True
AXES_FAILURE_LIMIT = QIFU_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=QIFU_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: an account, an address
AXES_HANDLER = "qifu.accounts.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "qifu.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "qifu.accounts.lockout.client_address"
AXES_RESET_ON_SUCCESS = False  # the handler resets the signed-in account only, never a whole address
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # trying while locked does not extend the lock
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # sign-ins and sign-outs are in the audit trail
AXES_ENABLE_ADMIN = False  # qifu.accounts.admin shows the counted failures (deleting one unlocks)

NINJA_PAGINATION_PER_PAGE = 50  # qifu.api.pagination: limit 1–200

# Background work (qifu.jobs): Celery when a broker is set, else in-process threads.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = False

# Notifications (qifu.notify): in-app inbox always; email, SMS and 浙政钉 when configured.
_smtp_host = os.environ.get("QIFU_SMTP_HOST", "")
_mailer = {"BACKEND": "django.core.mail.backends.console.EmailBackend", "OPTIONS": {}}
if _smtp_host:
    _mailer = {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": _smtp_host,
        "port": int(os.environ.get("QIFU_SMTP_PORT", "25")),
        "username": os.environ.get("QIFU_SMTP_USER", ""),
        "password": os.environ.get("QIFU_SMTP_PASSWORD", ""),
        "use_tls": os.environ.get("QIFU_SMTP_TLS", "") in ("1", "true", "yes"),
        "timeout": 20,
    }}
if django.VERSION >= (6, 1):  # MAILERS replaces the EMAIL_* settings (docs/decisions.md)
    MAILERS = {"default": _mailer}
else:
    EMAIL_BACKEND = _mailer["BACKEND"]
    EMAIL_HOST = _mailer["OPTIONS"].get("host", "localhost")
    EMAIL_PORT = _mailer["OPTIONS"].get("port", 25)
    EMAIL_HOST_USER = _mailer["OPTIONS"].get("username", "")
    EMAIL_HOST_PASSWORD = _mailer["OPTIONS"].get("password", "")
    EMAIL_USE_TLS = _mailer["OPTIONS"].get("use_tls", False)
    EMAIL_TIMEOUT = _mailer["OPTIONS"].get("timeout")
DEFAULT_FROM_EMAIL = os.environ.get("QIFU_MAIL_FROM", "qifu@localhost")
QIFU_NOTIFY_ADAPTERS = {
    "email": "qifu.notify.adapters.EmailAdapter",
    "sms": "qifu.notify.adapters.AliyunSmsAdapter",
    "dingtalk": "qifu.notify.adapters.DingTalkAdapter",
}
QIFU_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("QIFU_NOTIFY_MAX_ATTEMPTS", "6"))
QIFU_NOTIFY_RETRY_SECONDS = 60  # first retry after this, doubling each time (capped at an hour)
QIFU_SMS = {  # Alibaba Cloud SMS (SendSms); unused while endpoint or keys are empty
    "endpoint": os.environ.get("QIFU_SMS_ENDPOINT", ""),  # e.g. https://dysmsapi.aliyuncs.com/
    "access_key_id": os.environ.get("QIFU_SMS_ACCESS_KEY_ID", ""),
    "access_key_secret": os.environ.get("QIFU_SMS_ACCESS_KEY_SECRET", ""),
    "sign_name": os.environ.get("QIFU_SMS_SIGN_NAME", ""),
    "template_code": os.environ.get("QIFU_SMS_TEMPLATE_CODE", ""),
    "region_id": os.environ.get("QIFU_SMS_REGION_ID", "cn-hangzhou"),
}
QIFU_DINGTALK = {  # 浙政钉 work notifications; unused while base_url or keys are empty
    "base_url": os.environ.get("QIFU_DINGTALK_URL", ""),
    "appkey": os.environ.get("QIFU_DINGTALK_APPKEY", ""),
    "appsecret": os.environ.get("QIFU_DINGTALK_APPSECRET", ""),
    "agent_id": os.environ.get("QIFU_DINGTALK_AGENT_ID", ""),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "qifu": {"handlers": ["console"], "level": os.environ.get("QIFU_LOG_LEVEL", "INFO")},
    },
}
