"""Reads for the widget: a queue's widget settings, and what the host page is told."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from queues.models import Queue
from widget.models import Widget

FORMS = ("button", "tab", "inline")


def widget_of(queue: Queue) -> Widget:
    """The queue's widget settings; the defaults (embeddable nowhere) when it has none."""
    try:
        return queue.widget
    except Widget.DoesNotExist:
        return Widget(queue=queue)


def widget_texts() -> dict[str, str]:
    """The host script's own words, in the request's language (it has no catalogue)."""
    return {
        "open": _("Chat is open"),
        "closed": _("Chat is not available"),
        "ask_page": _("Ask on our chat page"),
        "pop_out": _("Open in a new window"),
        "close": _("Close the chat"),
        "popped_out": _("The chat is open in a separate window."),
        "frame_title": _("Chat with a librarian"),
    }


def widget_config(*, request: HttpRequest, queue: Queue) -> dict[str, Any]:
    """What widget.js needs to draw a queue's widget on the page that asks.

    ``embeddable``: the page asking (its ``Origin``) is one the queue lists;
    elsewhere the script shows only the link to the ask page.
    """
    widget = widget_of(queue)
    origin = request.headers.get("Origin", "")
    return {
        "slug": queue.slug,
        "label": widget.button_label or _("Chat with a librarian"),
        "title": widget.panel_title or queue.name,
        "button_color": widget.button_color,
        "text_color": widget.text_color,
        "embeddable": bool(origin) and origin in widget.origins,
        "ask_url": request.build_absolute_uri(reverse("ask-form", args=[queue.slug])),
        "frame_url": request.build_absolute_uri(reverse("widget-ask", args=[queue.slug])),
        "texts": widget_texts(),
    }


def snippet(*, base_url: str, queue: Queue, form: str) -> str:
    """The HTML a library pastes into its pages for ``form`` (button, tab or inline)."""
    ask = f"{base_url}{reverse('ask-form', args=[queue.slug])}"
    # The unhashed name: a pasted snippet must outlive the next deploy.
    script = f"{base_url}/{settings.STATIC_URL.strip('/')}/widget/widget.js"
    return (
        f'<a href="{ask}" data-reference-chat="{queue.slug}">{_("Chat with a librarian")}</a>\n'
        f'<script src="{script}" data-queue="{queue.slug}" data-form="{form}" async></script>'
    )
