"""Settings read from the environment; safe production defaults, an embedded default for newcomers.

With nothing set, Spyglass runs on a SQLite file in ``var/`` and Celery runs tasks in-process.
``DATABASE_URL`` selects PostgreSQL or another SQLite file; ``CELERY_BROKER_URL`` selects Redis.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
# A checkout has manage.py beside tracker/. An installed package (pip install of the project or
# its wheel) has no checkout: its writable folders (var/, staticfiles/) default to the working
# directory, and the site templates ship inside the package as tracker/site_templates.
IN_CHECKOUT = (BASE_DIR / "manage.py").is_file()
SITE_DIR = BASE_DIR if IN_CHECKOUT else Path.cwd()
SITE_TEMPLATES_DIR = (
    BASE_DIR / "templates" if IN_CHECKOUT else BASE_DIR / "tracker" / "site_templates"
)
VAR_DIR = Path(os.environ.get("SPYGLASS_VAR_DIR", SITE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file and mail files live here


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("SPYGLASS_PRODUCTION", False):
        raise RuntimeError("SECRET_KEY must be set in production")
    SECRET_KEY = "insecure-development-key-set-SECRET_KEY-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "drf_spectacular",
    "corsheaders",
    "csp",
    "tracker",
]

MIDDLEWARE = [
    "tracker.security.ProxiedClientAddress",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_TEMPLATES_DIR],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'spyglass.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a scrape writes; IMMEDIATE avoids lock-upgrade deadlocks.
    # Memory-mapped reads (address space, not RAM) of as much of the file as the SQLite
    # library allows (2 GiB in common builds; it lowers a larger request): a row looked up by
    # id costs no read() call, which is what a large export does row after row.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=17179869184;"
        ),
    }
    # A file (not memory) so that a Celery worker process started by a test sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", SITE_DIR / "staticfiles"))
# tracker/static is found as the app's static folder (STATICFILES_DIRS would find it twice).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the app's static folders too, so `make run` needs no collectstatic.
WHITENOISE_USE_FINDERS = True
# Production (SPYGLASS_PRODUCTION=1, DEBUG off) links to collectstatic's copies with the content
# hash in the name (browsers keep them for a year) and serves their .gz (and, with the brotli
# package, .br) twins: `collectstatic` must run before the web process starts, or pages fail.
# Development and the tests link to the plain files, served from the app folder.
STATIC_MANIFEST = env_bool("SPYGLASS_PRODUCTION") and not DEBUG
# Bulk downloads: one place that every web host reads and the task writes. By default a folder
# (with several hosts, one they all mount, e.g. NFS); any Django storage works (S3 through
# django-storages: downloads then redirect to the bucket's URL).
BULK_EXPORTS_DIR = Path(os.environ.get("SPYGLASS_BULK_DIR", VAR_DIR / "bulk"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    "bulk": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": BULK_EXPORTS_DIR},
    },
}

# Email: console by default; SMTP in production through EMAIL_URL-style settings.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Spyglass <alerts@localhost>")
ADMINS = [("Spyglass admins", address) for address in env_list("ADMINS")]
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security headers; the cookie/HSTS settings tighten when DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and env_bool("SPYGLASS_PRODUCTION"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HSTS is only ever sent on HTTPS responses, so production can default to a year.
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "31536000" if env_bool("SPYGLASS_PRODUCTION") else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# Trusted reverse proxies in front of the app: true/1 = one (nginx), a number = that many (CDN +
# nginx = 2). Client addresses come from that many X-Forwarded-For hops from the right.
_proxies = os.environ.get("BEHIND_PROXY", "").strip().lower()
if _proxies in {"", "false", "no", "off"}:
    BEHIND_PROXY = 0
elif _proxies in {"true", "yes", "on"}:
    BEHIND_PROXY = 1
elif _proxies.isdigit():
    BEHIND_PROXY = int(_proxies)
else:
    raise ImproperlyConfigured(f"BEHIND_PROXY must be true, false or a number, not {_proxies!r}")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None

# A shared cache (Redis) so the admin-login and alert rate limits hold across workers and hosts.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
        }
    }
ADMIN_LOGIN_MAX_FAILURES = int(os.environ.get("ADMIN_LOGIN_MAX_FAILURES", "5"))
ADMIN_LOGIN_WINDOW = int(os.environ.get("ADMIN_LOGIN_WINDOW", str(15 * 60)))

# A strict Content-Security-Policy: nothing from other origins, no inline script or style.
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# The read-only JSON API: open to any origin for GET, rate-limited per client.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "OPTIONS"]
SPYGLASS_API_RATE = os.environ.get("SPYGLASS_API_RATE", "120/min")
REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
# The API's OpenAPI schema (/api/v1/schema/, the /api/v1/docs/ page): it documents /api/v1/,
# the canonical address; /api/ serves the same views as an undocumented alias.
SPECTACULAR_SETTINGS = {
    "TITLE": "Spyglass API",
    "DESCRIPTION": (
        "Read-only data on government surveillance-technology procurement: which agency "
        "bought or was pitched which technology, from which vendor, when, for how much, "
        "with the sources. Events take the same filters as the timeline. /api/v1/ is the "
        "canonical address; /api/ answers the same requests as an alias."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["tracker.api.schema.canonical_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tracker.api.schema.nullable_refs_inlined",
    ],
}

# Celery: without a broker, tasks run in-process so a newcomer needs nothing installed.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", str(2 * 3600)))
# The broker redelivers an unacknowledged task after this long: longer than the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(
        os.environ.get("CELERY_BROKER_VISIBILITY_TIMEOUT", str(CELERY_TASK_TIME_LIMIT + 600))
    )
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
SCRAPE_SCHEDULE_HOUR = int(os.environ.get("SCRAPE_SCHEDULE_HOUR", "4"))
CELERY_BEAT_SCHEDULE = {
    "daily-incremental-scrape": {
        "task": "tracker.tasks.scrape_all_incremental",
        "schedule": crontab(hour=SCRAPE_SCHEDULE_HOUR, minute=0),
    },
    "export-cells-fill": {
        "task": "tracker.tasks.export_cells_fill",
        "schedule": crontab(minute=45),
    },
    "source-health-sweep": {
        "task": "tracker.tasks.source_health_sweep",
        "schedule": crontab(minute=30),
    },
    "alerts-immediate-sweep": {
        "task": "tracker.alerts.tasks.alerts_send_due",
        "schedule": crontab(minute="*/15"),
        "args": ("immediate",),
    },
    "alerts-daily-digest": {
        "task": "tracker.alerts.tasks.alerts_send_due",
        "schedule": crontab(hour=7, minute=0),
        "args": ("daily",),
    },
    "alerts-weekly-digest": {
        "task": "tracker.alerts.tasks.alerts_send_due",
        "schedule": crontab(hour=7, minute=15, day_of_week=1),
        "args": ("weekly",),
    },
    "alerts-expire-unconfirmed": {
        "task": "tracker.alerts.tasks.alerts_expire_unconfirmed",
        "schedule": crontab(hour=3, minute=30),
    },
}

# Scraping
SPYGLASS_CONTACT_URL = os.environ.get("SPYGLASS_CONTACT_URL", "https://github.com/spyglass-tracker")
# Sources the daily schedule runs (sam and sam_awards need SAM_API_KEY, muckrock an account;
# each is skipped without its credentials).
SCRAPE_SOURCES = env_list(
    "SCRAPE_SOURCES", "usaspending,fpds,sam,sam_awards,lda,muckrock,documentcloud,news,atlas"
)
SAM_API_KEY = os.environ.get("SAM_API_KEY", "")
SAM_DAILY_QUOTA = int(os.environ.get("SAM_DAILY_QUOTA", "10"))
LDA_API_KEY = os.environ.get("LDA_API_KEY", "")
# MuckRock's API v2 needs a (free) MuckRock account; without one the source is skipped.
MUCKROCK_USERNAME = os.environ.get("MUCKROCK_USERNAME", "")
MUCKROCK_PASSWORD = os.environ.get("MUCKROCK_PASSWORD", "")
# {"source": "base URL"} to point sources at a mirror; hosts the scrapers may reach even though
# they are private (only for tests against a local server).
SOURCE_URLS = json.loads(os.environ.get("SPYGLASS_SOURCE_URLS", "{}"))
SCRAPER_TRUSTED_HOSTS = env_list("SCRAPER_TRUSTED_HOSTS")
# Politeness: seconds between requests to one host (default: per source) and retry backoff base.
SCRAPER_MIN_INTERVAL = (
    float(os.environ["SCRAPER_MIN_INTERVAL"]) if os.environ.get("SCRAPER_MIN_INTERVAL") else None
)
SCRAPER_BACKOFF_BASE = float(os.environ.get("SCRAPER_BACKOFF_BASE", "1.0"))
# Redis that spaces requests to each host across all workers and hosts: CACHE_URL when it is
# Redis, else a Redis broker (several workers need it most); empty: each process spaces its own.
SCRAPER_REDIS_URL = next(
    (
        url
        for url in (os.environ.get("CACHE_URL", ""), CELERY_BROKER_URL)
        if url.startswith(("redis://", "rediss://", "unix://"))
    ),
    "",
)
IMPORT_BATCH_SIZE = int(os.environ.get("IMPORT_BATCH_SIZE", "2000"))
