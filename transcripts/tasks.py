"""The transcripts' tasks, run by the worker (``manage.py worker``)."""

from django_tasks import task

from transcripts.delivery import transcript_deliver


@task(queue_name="email")
def transcript_email(session_id: int, claim: int) -> bool:
    """Send one transcript under its claim (see :mod:`transcripts.delivery`)."""
    return transcript_deliver(session_id=session_id, claim=claim)
