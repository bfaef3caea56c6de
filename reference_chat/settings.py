"""Settings for Reference Chat.

Every setting comes from the environment (see the table in README.md). With
nothing set, the app runs embedded: SQLite under ``var/`` and the in-memory
channel layer. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and
Redis, where several Daphne processes serve as one.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.secret_key import secret_key_from_file

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the app writes at run time (SQLite, mail files) lives here.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# Safe with nothing set: debug pages (every URL pattern, tracebacks, settings)
# only when asked for with DEBUG=true, on a developer's machine.
DEBUG = env.bool("DEBUG", default=False)
# Without SECRET_KEY, a machine makes its own on the first run and keeps it
# under VAR_DIR (core/secret_key.py), which its processes share. Processes on
# several machines must be given one (check --deploy says so: core/checks.py).
SECRET_KEY_FILE = VAR_DIR / "secret_key"
SECRET_KEY_FROM_ENV = bool(env.str("SECRET_KEY", default=""))
SECRET_KEY = env.str("SECRET_KEY", default="") or secret_key_from_file(SECRET_KEY_FILE)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI and Redoc served from our static files, never a CDN.
    "drf_spectacular_sidecar",
    # API keys for other systems (api/models.py: LibraryAPIKey).
    "rest_framework_api_key",
    # Failed log-ins per account and per address (docs/deployment.md).
    "axes",
    # The infrastructure, then the domain: each app imports only those
    # listed before it (docs/architecture.md).
    "core",
    "accounts",
    "queues",
    "chat",
    "wrapup",
    "im",
    "shifts",
    "transcripts",
    "questions",
    "scripts",
    "surveys",
    "stats",
    "console",
    "api",
    "widget",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy (core/security.py).
    "core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The patron's language (core/i18n.py): ?lang=, the cookie, Accept-Language;
    # staff pages English. After sessions, before CommonMiddleware, as Django asks.
    "core.i18n.PatronLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a logged-in user's request refreshes their login.
    "accounts.logins.IdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reference_chat.urls"
ASGI_APPLICATION = "reference_chat.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.logins.idle_settings",
                "core.i18n.languages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite by default. IMMEDIATE transactions take the write lock at BEGIN, so
# two writers queue behind the busy timeout instead of one failing with
# "database is locked" halfway through (the pick-up race relies on it).
SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A fresh clone has no var/ yet; SQLite creates the file, not its folder.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not memory: threads in the race tests and Daphne processes in
    # the browser tests must see the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    # A connection pool (psycopg's, through Django): every socket action and
    # request borrows a connection and gives it back, instead of opening one
    # (a PostgreSQL process fork) each time. Django advises pooling, not
    # persistent connections, under ASGI. DATABASE_POOL_SIZE=0 turns it off.
    pool_size = env.int("DATABASE_POOL_SIZE", default=12)
    if pool_size > 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": pool_size,
            "timeout": 10,  # seconds to wait for a free connection before an error
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
        DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------
# The Redis Pub/Sub layer: it spent far less CPU per line than the list-based
# layer in our bare-stack runs, and a channel layer is only a doorbell here
# (the database is the record clients catch up from), so its at-most-once
# delivery costs nothing we rely on.
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_PREFIX = env.str("CHANNEL_PREFIX", default="refchat")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNEL_PREFIX},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Cache: the limits' counters (core/limits.py, the API's throttles) -----
# Shared by every process: Redis when there is one (its own key prefix, so
# several sites share a Redis), else a table in the database, which
# `migrate` creates (core/apps.py). Never process memory: a limit must hold
# however many processes serve.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{CHANNEL_PREFIX}-cache",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "core_cache",
            "KEY_PREFIX": f"{CHANNEL_PREFIX}-cache",
        }
    }

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: a locked-out account or address is refused before its
# password is even checked (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.LoginLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console"
LOGOUT_REDIRECT_URL = "login"
# Staff logins (accounts/logins.py) end with the browser, on a shared
# reference-desk PC too, and after this long without activity (8 hours),
# with a warning this long before (WCAG 2.2.1: at least 20 seconds). The
# rows are in the database: the console's heartbeat checks and extends them.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
STAFF_IDLE_SECONDS = env.int("STAFF_IDLE_SECONDS", default=8 * 3600)
STAFF_IDLE_WARNING_SECONDS = env.int("STAFF_IDLE_WARNING_SECONDS", default=120)
if not 20 <= STAFF_IDLE_WARNING_SECONDS < STAFF_IDLE_SECONDS:
    raise ImproperlyConfigured(
        "STAFF_IDLE_WARNING_SECONDS must be at least 20 and less than STAFF_IDLE_SECONDS."
    )
SESSION_COOKIE_AGE = STAFF_IDLE_SECONDS

# --- Internationalisation -------------------------------------------------
# Patron pages, the patron's socket and emails speak the patron's language
# (core/i18n.py; README, "Translations"); staff pages stay English. The
# catalogues are locale/<lang>/LC_MESSAGES/django.po (templates, Python) and
# djangojs.po (static/js, served by /jsi18n/); `make messages` updates them.
LANGUAGE_CODE = "en"
# Each language's name in itself, as the switcher shows it.
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Paths that are staff pages: English, whatever the browser asks for.
STAFF_PATH_PREFIXES = [
    "/console/",
    "/admin/",
    "/login/",
    "/logout/",
    "/idle/",
    "/api/v1/sessions/",
    "/api/v1/schema/",
]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "core.storage.StaticFilesStorage"
        )
    },
}

# --- Uploaded files: the libraries' logos (accounts/branding.py) ----------
# Under VAR_DIR, the one place the app writes. With SERVE_MEDIA the app
# serves them itself (the embedded mode, `make run`); behind nginx, let nginx
# serve MEDIA_ROOT at MEDIA_URL and turn it off (docs/deployment.md).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# The largest logo upload accepted (bytes); it is re-encoded and scaled down.
BRAND_LOGO_MAX_BYTES = 512 * 1024

# --- Email ----------------------------------------------------------------
# Embedded default: each message is a file under var/mail/ that a person can
# read. EMAIL_URL (smtp://user:pass@host:587, smtp+tls://...) sends for real.
EMAIL_FILE_PATH = VAR_DIR / "mail"
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Reference Chat <chat@localhost>")
# Seconds an SMTP connection may wait on the mail server at any step: mail
# goes out from the worker (never from a web process), and a hung server
# costs one attempt, retried later (transcripts/delivery.py).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Security when served behind TLS -------------------------------------
# Off by default so that `make run` works over plain http on one machine; the
# production set in README.md turns each on, and `check --deploy` names any
# left off. The image (Dockerfile) sets SECURE_COOKIES=true.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The patron's language choice (core/i18n.py), with the same care.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Staff pages are never framed (X-Frame-Options and CSP frame-ancestors).
X_FRAME_OPTIONS = "DENY"
# The Content-Security-Policy (django-csp): nothing inline, nothing from
# another origin. core.security.SecurityHeadersMiddleware adds the page's own
# ws:/wss: origin to connect-src, and the Permissions-Policy header; its
# docstring says how the patron pages will relax framing (a later issue).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Features the product doesn't use, denied to the page and anything it embeds;
# autoplay stays for the page itself (the console's sound alert).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(self), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), "
    "serial=(), usb=(), xr-spatial-tracking=()"
)

# --- The product's own settings --------------------------------------------
# Chat, background work and the limits on abuse: reference_chat/product.py
# (the same environment variables; README's table lists them all).
from reference_chat.product import *  # noqa: E402, F403

# --- REST API (docs/api.md) ------------------------------------------------
# Read-only JSON under /api/v1/. Staff endpoints use the librarian's Django
# session; the public status and the patron's own session say so per view.
# JSON only: no browsable HTML API. Swagger UI (/api/v1/docs/) and Redoc
# (/api/v1/redoc/) read the schema, their assets from our static files.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error JSON, a 500 included (api/errors.py).
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttles.AnonThrottle",
        "api.throttles.LibrarianThrottle",
        "api.throttles.KeyThrottle",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reference Chat API",
    "DESCRIPTION": "API of Reference Chat: chat status for library web sites (with ETag), "
    "the patron's own session by its token, Chat History for librarians, and the "
    "Statistics for a library's API keys (Authorization: Api-Key <key>) or a librarian. "
    "A Librarian Note never appears in a patron-facing response. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs pages' scripts and styles from our static files (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The status's state and reason: named once, apart from a session's state.
    "ENUM_NAME_OVERRIDES": {
        "AvailabilityStateEnum": "chat.availability.STATES",
        "AvailabilityReasonEnum": "chat.availability.REASONS",
        "StateEnum": "chat.models.ChatSession.State",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.throttled_responses",
    ],
}

# --- Logging --------------------------------------------------------------
# Logs say what happened to which session id, never what anybody wrote. Every
# record of every logger has its patron tokens masked when it is made,
# traceback included (core/logging.py).
LOGGING_CONFIG = "core.logging.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_tokens": {"()": "core.logging.MaskPatronTokens"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own handlers (a console one in DEBUG, mail to ADMINS) go:
        # its records reach ours at the root, once, like everybody else's.
        # INFO even with LOG_LEVEL=DEBUG: the SQL log would quote tokens.
        "django": {"handlers": [], "level": "INFO"},
        "django.channels.server": {"level": "WARNING"},
        # django-axes says every failed log-in at INFO; its lock-outs are WARNINGs.
        "axes": {"level": "WARNING"},
        # Scanners sending a wrong Host header are not worth a traceback each.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
    },
}
