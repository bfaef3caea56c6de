"""Settings for Reference Chat.

Every setting comes from the environment (see the table in README.md). With
nothing set, the app runs embedded: SQLite under ``var/`` and the in-memory
channel layer. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and
Redis, where several Daphne processes serve as one.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the app writes at run time (SQLite, mail files) lives here.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# The built-in key is only for DEBUG on a developer's machine: refusing it
# with DEBUG off keeps a copied dev configuration from reaching production.
INSECURE_DEV_SECRET_KEY = "insecure-dev-key-never-use-in-production"  # noqa: S105
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == INSECURE_DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

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
    # The infrastructure, then the domain: each app imports only those
    # listed before it (docs/architecture.md).
    "core",
    "accounts",
    "queues",
    "chat",
    "im",
    "shifts",
    "transcripts",
    "console",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a logged-in user's request refreshes their login.
    "accounts.logins.IdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str("CHANNEL_PREFIX", default="refchat"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
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
LANGUAGE_CODE = "en-us"
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
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Product settings -----------------------------------------------------
CHAT_MAX_LINE_CHARS = 4000
# A frame bigger than this is refused before it is parsed (a line of 4,000
# characters of four-byte UTF-8 plus its envelope fits well inside).
CHAT_MAX_FRAME_BYTES = 64 * 1024
# The most lines of a process stored in one database call and transaction
# (chat/writer.py): the lines that arrive while a batch is stored.
CHAT_LINE_BATCH = 64
# Line statements are prepared on that connection (after five uses of a
# shape): PostgreSQL parses and plans them once. Off behind a pooler that
# can't keep prepared statements (PgBouncer's transaction pooling before 1.21).
CHAT_LINES_PREPARED = env.bool("CHAT_LINES_PREPARED", default=True)
# The most patron sockets of a process opened in one database call and
# transaction (chat/consumers.py): a thousand reconnecting after a restart.
PATRON_OPEN_BATCH = 64
# A console gone longer than this (closed, or its server process died) ends
# the librarian's shift; shorter is a page reload. Heartbeats refresh it.
CONSOLE_GRACE_SECONDS = env.int("CONSOLE_GRACE_SECONDS", default=30)
# Every open socket refreshes its presence row this often (and tells its
# client the latest sequence numbers, so a lost event is noticed).
HEARTBEAT_SECONDS = 10
# A patron socket not refreshed for this long died with its server process.
PATRON_SOCKET_STALE_SECONDS = 30
# --- Background work (docs/deployment.md) ---------------------------------
# Mail and every periodic job run in the worker process (`manage.py worker`),
# never on the threads that serve sockets or in a web request. Tasks are rows
# in the database (django-tasks' database backend), so the worker needs no
# other service, on SQLite as on PostgreSQL.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "email"],
    }
}
# How often the sweeps run in the worker: consoles gone past the grace
# period, patron sockets whose process died, patrons gone past theirs.
SWEEP_SECONDS = env.int("SWEEP_SECONDS", default=5)
# The worker's schedule: each job is a function called every so many
# seconds, in its own error boundary; with several workers, each run is
# claimed by one (core/scheduler.py).
PERIODIC_JOBS = {
    "shifts.presence_sweep": {"call": "shifts.services.presence_sweep", "every": SWEEP_SECONDS},
    "chat.patron_sockets_sweep": {
        "call": "chat.patrons.patron_sockets_sweep",
        "every": SWEEP_SECONDS,
    },
    "chat.sessions_lost_sweep": {
        "call": "chat.patrons.sessions_lost_sweep",
        "every": SWEEP_SECONDS,
    },
    "chat.transfer_expire_due": {"call": "chat.transfers.transfer_expire_due", "every": 1},
    "transcripts.transcripts_enqueue_due": {
        "call": "transcripts.delivery.transcripts_enqueue_due",
        "every": 2,
    },
    "shifts.console_presence_prune": {
        "call": "shifts.services.console_presence_prune",
        "every": 60,
    },
    "chat.patron_presence_prune": {"call": "chat.patrons.patron_presence_prune", "every": 600},
    "core.relayed_events_prune": {
        "call": "core.relay.relayed_events_prune",
        "every": 60,
    },
    "core.task_results_prune": {
        "call": "core.scheduler.task_results_prune",
        "every": 3600,
    },
}
# In the embedded mode, how often the web process reads the events the
# worker relayed through the database (core/relay.py); 0: never.
RELAY_READ_SECONDS = env.float("RELAY_READ_SECONDS", default=0.2)
# A transcript email is claimed for this long while the worker sends it; a
# worker that dies meanwhile leaves it to be sent again after the lease.
TRANSCRIPT_LEASE_SECONDS = env.int("TRANSCRIPT_LEASE_SECONDS", default=600)
# Attempts before a transcript that the mail server keeps refusing is given up.
TRANSCRIPT_MAX_ATTEMPTS = 8

# Threads each server process runs the sockets' database calls on
# (core/db.py). Keep it below DATABASE_POOL_SIZE: web requests
# borrow connections from the same pool.
DATABASE_THREADS = env.int("DATABASE_THREADS", default=1)

# Python's garbage collector in the server process (reference_chat/asgi.py):
# the first generation's threshold (Python's own: 700); 0 leaves Python's
# defaults and freezes nothing.
GC_FIRST_THRESHOLD = env.int("GC_FIRST_THRESHOLD", default=5000)

# --- REST API (docs/api.md) ------------------------------------------------
# Read-only JSON under /api/v1/. Staff endpoints use the librarian's Django
# session; the public status and the patron's own session say so per view.
# JSON only: no browsable HTML API, no Swagger page (its assets come from a CDN).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Reference Chat API",
    "DESCRIPTION": "Read-only API of Reference Chat: chat status for library web sites, "
    "the patron's own session by its token, and Chat History for librarians. "
    "A Librarian Note never appears in a patron-facing response. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
}

# --- Logging --------------------------------------------------------------
# Logs say what happened to which session id, never what anybody wrote.
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
        "django.channels.server": {"level": "WARNING"},
        # Scanners sending a wrong Host header are not worth a traceback each.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
    },
}
