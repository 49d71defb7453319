"""Settings come from the environment so one build runs the demo, CI and a plant installation."""

import json
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("QUALIFLOW_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("QUALIFLOW_DEBUG", False)
SECRET_KEY = os.environ.get("QUALIFLOW_SECRET_KEY", "qualiflow-insecure-development-key-change-me-in-production")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("QUALIFLOW_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("QUALIFLOW_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "axes",
    "ninja",  # serves the API docs page's Swagger UI from our static files, not a CDN (plants may be offline)
    "qualiflow.core",
    "qualiflow.audit",
    "qualiflow.integration",
    "qualiflow.accounts",
    "qualiflow.org",
    "qualiflow.people",
    "qualiflow.documents",
    "qualiflow.training",
    "qualiflow.equipment",
    "qualiflow.quality",
    "qualiflow.production",
    "qualiflow.automation",
    "qualiflow.scim",
    "qualiflow.imports",
    "qualiflow.shell",
    "qualiflow.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "qualiflow.accounts.middleware.RequestContextMiddleware",
    "qualiflow.shell.middleware.PlantTimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "qualiflow.urls"
WSGI_APPLICATION = "qualiflow.wsgi.application"

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
                "qualiflow.shell.context_processors.navigation",
            ],
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'qualiflow.sqlite3'}"),
        conn_max_age=int(os.environ.get("QUALIFLOW_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN, so two writers
    # queue instead of dead-locking on lock upgrade, which also serialises the audit hash chain.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "qualiflow.accounts.backends.RolePermissionBackend",
    "qualiflow.accounts.backends.HumanModelBackend",
]

# Login throttling: five failures lock the username (from any address) for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("QUALIFLOW_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5
# By username only: shop-floor tablets share one address, and locking an address would stop a whole line.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "shell:home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = int(os.environ.get("QUALIFLOW_SESSION_SECONDS", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("QUALIFLOW_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# collectstatic fills it for `serve`; WhiteNoise wants it to exist in every process (tests, manage).
STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = PROJECT_DIR / "node_modules"
STATICFILES_DIRS = [BASE_DIR / "static"]
for vendor_dir in (NODE_MODULES / "htmx.org" / "dist", NODE_MODULES / "echarts" / "dist"):
    if vendor_dir.is_dir():
        STATICFILES_DIRS.append(("vendor", vendor_dir))
MEDIA_ROOT = VAR_DIR / "media"
# Largest certificate scan accepted (bytes); a phone photo or a scanned PDF fits well within 10 MiB.
QUALIFLOW_CERTIFICATE_MAX_BYTES = int(os.environ.get("QUALIFLOW_CERTIFICATE_MAX_BYTES", str(10 * 1024 * 1024)))

EMAIL_BACKEND = os.environ.get("QUALIFLOW_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("QUALIFLOW_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("QUALIFLOW_SMTP_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("QUALIFLOW_MAIL_FROM", "qualiflow@localhost")

QUALIFLOW_EVENT_SOURCE = os.environ.get("QUALIFLOW_EVENT_SOURCE", "urn:qualiflow:plant")
# Where links in e-mails point (the address people open Qualiflow at).
QUALIFLOW_BASE_URL = os.environ.get("QUALIFLOW_BASE_URL", "http://127.0.0.1:8000")
# `qualiflow worker` runs these management commands once a day at this time (UTC, HH:MM).
QUALIFLOW_DAILY_AT = os.environ.get("QUALIFLOW_DAILY_AT", "02:00")
QUALIFLOW_DAILY_JOBS = ["training_daily"]
# Work the worker does continuously, every poll (dotted paths of functions `run_once() -> int`, the number of
# items handled): event delivery to webhooks / NATS, automation rules, background import batches.
QUALIFLOW_WORKER_LOOPS = [
    "qualiflow.integration.dispatch.run_once",
    "qualiflow.automation.engine.run_once",
    "qualiflow.imports.worker.run_once",
]
# NATS JetStream delivery is on when this is set (e.g. nats://127.0.0.1:4222).
QUALIFLOW_NATS_URL = os.environ.get("QUALIFLOW_NATS_URL", "")
QUALIFLOW_NATS_STREAM = os.environ.get("QUALIFLOW_NATS_STREAM", "QUALIFLOW")
QUALIFLOW_NATS_SUBJECT_PREFIX = os.environ.get("QUALIFLOW_NATS_SUBJECT_PREFIX", "qualiflow")
# Webhook delivery: parallel senders, seconds per request, a worker's hold on what it sends, first back-off.
QUALIFLOW_DELIVERY_THREADS = int(os.environ.get("QUALIFLOW_DELIVERY_THREADS", "8"))
QUALIFLOW_DELIVERY_TIMEOUT_SECONDS = float(os.environ.get("QUALIFLOW_DELIVERY_TIMEOUT_SECONDS", "10"))
QUALIFLOW_DELIVERY_LEASE_SECONDS = float(os.environ.get("QUALIFLOW_DELIVERY_LEASE_SECONDS", "60"))
QUALIFLOW_DELIVERY_BACKOFF_SECONDS = float(os.environ.get("QUALIFLOW_DELIVERY_BACKOFF_SECONDS", "10"))
# SCIM groups that grant a role to their members, as JSON: {"QF-Operators": "operator"}.
QUALIFLOW_SCIM_GROUP_ROLES = json.loads(os.environ.get("QUALIFLOW_SCIM_GROUP_ROLES") or "{}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("QUALIFLOW_LOG_LEVEL", "WARNING")},
}
