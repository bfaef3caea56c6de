"""``manage.py worker``: the background worker. Run one or more beside the web processes.

One process does both kinds of background work, each on its own thread:

- the task queue (django-tasks' database backend): mail, each message its
  own task, retried with backoff by its own service; several workers share
  the queue, each task run by one;
- the schedule (``core/scheduler.py``): the sweeps and the other
  periodic jobs, each run claimed by one worker, so a slow mail server never
  holds up a sweep.

SIGINT or SIGTERM stops it gracefully: the task being run finishes first
(a second signal stops it at once); a job of the schedule is never left
half-claimed. A worker killed outright loses nothing: the database is the
record (a transcript's claim runs out and it is sent again; a job's next run
comes as planned).
"""

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from core import events, scheduler

logger = logging.getLogger("core.worker")

TICK_SECONDS = 0.25


class Command(BaseCommand):
    help = "Run the background worker: mail and other tasks, and the periodic jobs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            help="Seconds between looks for a task when the queue is empty (default: 0.5).",
        )
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="Run tasks only, not the periodic jobs (another worker runs those).",
        )
        parser.add_argument(
            "--heartbeat-file",
            default="",
            help="A file the worker touches every few seconds while its schedule runs: a "
            "container's health check reads its age (docker/healthcheck.py --worker).",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the due periodic jobs once and every task queued, then exit (tests, cron).",
        )

    def handle(
        self,
        *args: Any,
        interval: float,
        no_schedule: bool,
        batch: bool,
        heartbeat_file: str,
        **options: Any,
    ) -> None:
        if events.in_memory_layer():
            # The embedded mode: the sockets' channel layer is in the web
            # process's memory; this process's events go through the database.
            events.relay_through_database()
        worker_id = get_random_string(32)
        tasks = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        schedule = [] if no_schedule else scheduler.jobs()
        if batch:
            self._run_schedule_once(schedule)
            tasks.run()
            return
        stopping = threading.Event()
        heartbeat = Path(heartbeat_file) if heartbeat_file else None
        timer = threading.Thread(
            target=self._keep_schedule,
            args=(schedule, stopping, heartbeat),
            name="schedule",
            daemon=True,
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()
            tasks.shutdown(signum, frame)

        # The signal handler ends the process with SystemExit from wherever the
        # main thread is, so everything from its installation on is inside the
        # try: a SIGTERM just after "started" still logs "stopped".
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, stop)
            logger.info(
                "worker %s started: %d periodic jobs, tasks from every queue",
                worker_id,
                len(schedule),
            )
            timer.start()
            tasks.run()
        finally:
            stopping.set()
            if timer.ident is not None:
                timer.join(timeout=30)
            logger.info("worker %s stopped", worker_id)
        sys.exit(0)

    def _run_schedule_once(self, schedule: list[scheduler.Job]) -> None:
        scheduler.schedule_ensure(schedule)
        for job in schedule:
            scheduler.run_one(job)

    def _keep_schedule(
        self, schedule: list[scheduler.Job], stopping: threading.Event, heartbeat: Path | None
    ) -> None:
        try:
            while not stopping.is_set():
                try:
                    scheduler.schedule_ensure(schedule)
                    break
                except Exception:
                    logger.exception("the schedule could not be set up; trying again")
                    close_old_connections()
                    stopping.wait(5)
            while not stopping.is_set():
                close_old_connections()
                scheduler.run_due(schedule)
                if heartbeat is not None:
                    heartbeat.touch()
                stopping.wait(TICK_SECONDS)
        finally:
            connections.close_all()
