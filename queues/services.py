"""Changes to a queue that are not the admin's form."""

from queues.models import Queue


def queue_switch(*, queue: Queue, is_open: bool) -> Queue:
    """Switch the queue on (it takes requests within its hours) or off.

    Changes: ``is_open`` and, through ``queues.receivers``, the page version,
    so /ask/, the widget and the status say so at their next read.
    Publishes nothing: a patron already waiting or chatting is not affected.
    """
    if queue.is_open != is_open:
        queue.is_open = is_open
        queue.save(update_fields=["is_open"])
    return queue
