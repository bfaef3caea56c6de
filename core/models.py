"""The infrastructure's own tables: the worker's schedule and the event relay."""

from django.db import models


class ScheduledJob(models.Model):
    """One periodic job of the worker's schedule (``settings.PERIODIC_JOBS``).

    ``next_run_at`` is claimed by a conditional UPDATE against the database's
    clock, so with several workers each run of a job happens once, and a
    worker that dies mid-run costs that run only.
    """

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    # The class of the last failure, never its message (it may carry data).
    last_error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name


class RelayedEvent(models.Model):
    """An event published by a process without sockets (the worker) in the
    embedded mode, where the channel layer lives in the web process's memory:
    the web process reads these and sends them on (``core/relay.py``)."""

    event = models.JSONField()
    groups = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.event.get('type')} #{self.pk}"
