"""Whether a patron asking a queue now reaches a librarian: the one place
the ask form and the follow-up questions ask.

Until the opening hours (``chat.availability``, issue 15's availability
contract) are merged, a queue is closed when it is switched off or nobody
monitors it; then this becomes ``queue_availability(queue)`` and its
``availability_message``.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from queues.models import Membership, Queue


@dataclass(frozen=True)
class Reachable:
    open: bool
    message: str  # one translated sentence for the patron


def queue_reachable(queue: Queue) -> Reachable:
    """Whether a patron asking ``queue`` now reaches a librarian, and why not."""
    if not queue.is_open:
        return Reachable(False, _("Chat is closed right now."))
    if not Membership.objects.monitoring().filter(queue=queue).exists():
        return Reachable(False, _("No librarian is available right now."))
    return Reachable(True, _("Chat is open."))
