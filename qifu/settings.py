"""Django settings for qifu.

Everything a deployment changes comes from the environment:
- DATABASE_URL     (default: SQLite file in the data directory)
- QIFU_DATA_DIR    (default: ./data next to the source tree, else ~/.qifu)
- QIFU_SECRET_KEY  (default: generated once and kept in the data directory)
- QIFU_DEBUG, QIFU_ALLOWED_HOSTS, QIFU_TIME_ZONE, QIFU_STATIC_ROOT
- QIFU_WEB_WORKERS, QIFU_WEB_THREADS (`qifu serve`), QIFU_REPLICA_DATABASE_URL (docs/deploy.md)
- CELERY_BROKER_URL (default: none — background work runs in-process)
- QIFU_SMTP_*, QIFU_SMS_*, QIFU_DINGTALK_* (notification channels; README "Notifications and background work")
"""

import os
import secrets
from pathlib import Path

import dj_database_url
import django
from django.utils.translation import gettext_lazy as _

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
    "qifu.policies",
    "qifu.front",
    "qifu.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "qifu.front.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qifu.audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
# `qifu collectstatic` copies the static files here for a reverse proxy to serve (docs/deploy.md).
STATIC_ROOT = Path(os.environ.get("QIFU_STATIC_ROOT") or DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

NINJA_PAGINATION_PER_PAGE = 50

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
