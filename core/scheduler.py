"""The worker's schedule: periodic jobs, each in its own error boundary.

``settings.PERIODIC_JOBS`` names each job, the function it calls and how
often. Every worker process runs :func:`run_due` a few times a second; a
job's run is claimed with a conditional UPDATE of its :class:`ScheduledJob`
row against the database's clock, so with several workers (and several web
processes, which run none of this) each run happens once, on time whatever
the workers' clocks say. A job that fails is logged and its next run comes
as planned; it never stops the others.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.module_loading import import_string

from core.models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    call: str
    every: float


def jobs() -> list[Job]:
    """The schedule, as settings say it."""
    return [
        Job(name=name, call=spec["call"], every=float(spec["every"]))
        for name, spec in settings.PERIODIC_JOBS.items()
        if float(spec["every"]) > 0
    ]


def claim(job: Job) -> bool:
    """Whether this worker runs the job now: its row's next run has come, by
    the database's clock, and no other worker took it first."""
    return bool(
        ScheduledJob.objects.filter(name=job.name, next_run_at__lte=Now()).update(
            next_run_at=Now() + timedelta(seconds=job.every), last_started_at=Now()
        )
    )


def schedule_ensure(schedule: list[Job]) -> None:
    """A row for each job (due at once); rows of jobs no longer scheduled stay, idle."""
    known = set(ScheduledJob.objects.values_list("name", flat=True))
    for job in schedule:
        if job.name in known:
            continue
        try:
            with transaction.atomic():
                ScheduledJob.objects.create(name=job.name, next_run_at=Now())
        except IntegrityError:
            pass  # another worker made it at the same moment


def due_names(schedule: list[Job]) -> set[str]:
    """The jobs whose next run has come, by the database's clock: one read
    for the whole schedule, so an idle tick costs one SELECT, not an UPDATE
    per job (the benchmark's worker and PostgreSQL CPU, docs/performance.md)."""
    return set(
        ScheduledJob.objects.filter(
            name__in=[job.name for job in schedule], next_run_at__lte=Now()
        ).values_list("name", flat=True)
    )


def run_due(schedule: list[Job]) -> list[str]:
    """Run every job whose time has come and that this worker claims; each
    one's failure is its own. Returns the names of the jobs run.

    The read says which jobs are due; the claim (a conditional UPDATE)
    still decides who runs each, so a job another worker took meanwhile is
    skipped."""
    try:
        due = due_names(schedule)
    except Exception:
        logger.exception("the schedule could not be read")
        close_old_connections()
        return []
    ran = []
    for job in schedule:
        if job.name not in due:
            continue
        try:
            if not claim(job):
                continue
        except Exception:
            logger.exception("the schedule could not be read for job %s", job.name)
            close_old_connections()
            continue
        ran.append(job.name)
        run_one(job)
    return ran


def run_one(job: Job) -> None:
    """Run one job in its own error boundary and record how it ended."""
    started = time.monotonic()
    error = ""
    try:
        import_string(job.call)()
    except Exception as failure:
        # Ids and counts only in the log: never a line, never a token.
        logger.exception("periodic job %s failed", job.name)
        error = type(failure).__name__
        close_old_connections()
    took = time.monotonic() - started
    if took > max(job.every, 1.0):
        logger.warning("periodic job %s took %.1f s (every %.0f s)", job.name, took, job.every)
    try:
        ScheduledJob.objects.filter(name=job.name).update(last_finished_at=Now(), last_error=error)
    except Exception:
        logger.exception("the end of job %s could not be recorded", job.name)


def task_results_prune() -> None:
    """Finished task results older than a day go (the task queue's own
    housekeeping), and so do tasks left running a day ago by a worker that
    died: whatever they were doing was done again since (a transcript's
    claim runs out and it is sent by another task)."""
    call_command("prune_db_task_results", queue_name="*", min_age_days=1, verbosity=0)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.running().filter(
        started_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
