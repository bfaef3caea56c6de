"""The product's own settings, apart from the framework's (reference_chat/settings.py
imports them all): the chat's limits and timings, the background work on the
worker, and the limits on abuse. Each comes from the environment, as in
settings.py; README's table lists them.
"""

from datetime import timedelta

import environ

env = environ.Env()

# --- Product settings -----------------------------------------------------
CHAT_MAX_LINE_CHARS = 4000
# A frame bigger than this is refused before it is parsed (a line of 4,000
# characters of four-byte UTF-8 plus its envelope fits well inside).
CHAT_MAX_FRAME_BYTES = 64 * 1024
# Lines a socket may send (patron lines, librarian lines and notes, IMs): a
# token bucket per socket, this many at once, then this many a second; a
# line over it is refused as too_fast and nothing is stored.
CHAT_LINES_BURST = env.int("CHAT_LINES_BURST", default=20)
CHAT_LINES_PER_SECOND = env.float("CHAT_LINES_PER_SECOND", default=5.0)
# Every other frame a socket sends (typing, resume, fetches, the console's
# actions) takes a token of a second bucket; a snapshot asked for
# (console.sync, session.resume), each a read of everything the socket shows,
# also one of a third. Over either: too_fast, and nothing is done.
CHAT_FRAMES_BURST = env.int("CHAT_FRAMES_BURST", default=40)
CHAT_FRAMES_PER_SECOND = env.float("CHAT_FRAMES_PER_SECOND", default=10.0)
CHAT_SNAPSHOTS_BURST = env.int("CHAT_SNAPSHOTS_BURST", default=5)
CHAT_SNAPSHOTS_PER_MINUTE = env.float("CHAT_SNAPSHOTS_PER_MINUTE", default=60.0)
# Typing indicators (core/typing_signals.py): a socket lets through at most
# one "typing" signal this often (per session, for a console); the rest are
# dropped. The pages send one at most every 3.2 s while someone types and
# hide the indicator after 6 s without one (static/js/typing.js), so this
# goes with the pages' figures, not a knob.
TYPING_EVENT_SECONDS = 3.0
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
# An IM session with no line for this long ends by itself (im.services.im_idle_sweep).
IM_IDLE_MINUTES = env.int("IM_IDLE_MINUTES", default=30)
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
# How often the worker publishes waiting requests to the tiers whose time came.
ROLLOVER_SECONDS = env.float("ROLLOVER_SECONDS", default=0.5)
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
    # A waiting request reaches the next tier's consoles within about a
    # second of its time (chat/routing.py).
    "chat.rollover_due": {"call": "chat.routing.rollover_due", "every": ROLLOVER_SECONDS},
    # Sessions held away from the patron's library past its queue's time: offered home.
    "chat.handback_due": {"call": "chat.handback.handback_due", "every": SWEEP_SECONDS},
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
    "chat.patron_blocks_prune": {"call": "chat.blocks.patron_blocks_prune", "every": 600},
    "core.task_results_prune": {
        "call": "core.scheduler.task_results_prune",
        "every": 3600,
    },
    "im.im_idle_sweep": {"call": "im.services.im_idle_sweep", "every": SWEEP_SECONDS},
    "questions.question_emails_enqueue_due": {
        "call": "questions.delivery.question_emails_enqueue_due",
        "every": 2,
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
# How long, in milliseconds, a thread of the server process holds the
# interpreter lock while another waits for it (Python's own: 5). A web
# request's thread (the ask form) and the database threads then hold up
# the sockets' event loop for at most this long at a time
# (reference_chat/asgi.py, docs/performance.md); 0 leaves Python's.
GIL_SWITCH_MS = env.float("GIL_SWITCH_MS", default=1.0)


# --- Limits on abuse (README, "Configuration") -----------------------------
# The client's address is REMOTE_ADDR (behind the documented nginx, Daphne's
# --proxy-headers has already made it the patron's), or the last entry of
# this header when set (e.g. X-Real-IP, set by your own proxy). Never
# X-Forwarded-For by default: a client can write anything there.
CLIENT_ADDRESS_HEADER = env.str("CLIENT_ADDRESS_HEADER", default="")
# Chat requests (the ask form) per client address per hour; 0: no limit.
ASK_LIMIT_PER_HOUR = env.int("ASK_LIMIT_PER_HOUR", default=10)
# Follow-up questions (questions/): a waiting patron is offered to leave the
# question after this long, and told to expect the answer within so many
# working days, unless the queue's policy (admin) says otherwise.
QUESTION_OFFER_SECONDS = env.int("QUESTION_OFFER_SECONDS", default=180)
QUESTION_ANSWER_WORKING_DAYS = env.int("QUESTION_ANSWER_WORKING_DAYS", default=2)
# Transcripts asked for at the end of a chat, per client address per hour.
TRANSCRIPT_LIMIT_PER_HOUR = env.int("TRANSCRIPT_LIMIT_PER_HOUR", default=3)
# How long a librarian's block keeps a patron's address from a new chat.
PATRON_BLOCK_HOURS = env.int("PATRON_BLOCK_HOURS", default=24)
# Failed log-ins (django-axes): this many in a row for one account, or from
# one address, lock it out for LOGIN_LOCKOUT_MINUTES; a supervisor lifts it
# in the admin (Axes: Access attempts).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.clients.request_client_address"
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
# Successful log-ins are not logged with their address (failures are, to count them).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# The API's throttles (api/throttles.py), per client address without a
# log-in, per librarian with one: "N/sec", "N/min", "N/hour" or "N/day".
API_ANON_RATE = env.str("API_ANON_RATE", default="120/min")
API_USER_RATE = env.str("API_USER_RATE", default="600/min")
API_KEY_RATE = env.str("API_KEY_RATE", default="600/min")
