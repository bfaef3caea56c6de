"""The widget on the queue's admin page: allowed origins, appearance, the snippets to copy.

``queues`` sits below ``widget`` and knows nothing of it, so the queue's admin
is registered again here with the widget's inline added to its own.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from queues.admin import QueueAdmin
from queues.models import Queue
from widget.models import Widget
from widget.selectors import FORMS, snippet


class WidgetInline(admin.StackedInline):
    model = Widget
    can_delete = False
    extra = 1
    max_num = 1
    fields = [
        "allowed_origins",
        "button_color",
        "text_color",
        "button_label",
        "panel_title",
        "snippets",
    ]
    readonly_fields = ["snippets"]
    verbose_name = _("chat widget")
    verbose_name_plural = _("chat widget")

    def get_formset(self, request: HttpRequest, obj: Queue | None = None, **kwargs):  # type: ignore[no-untyped-def]
        # Django makes the inlines afresh for each request (get_inline_instances),
        # so this is the address of this request's admin page: our own origin.
        self._base_url = f"{request.scheme}://{request.get_host()}"
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=_("snippets to paste"))
    def snippets(self, widget: Widget) -> str:
        if widget.queue_id is None:
            return _("Save the queue to see its snippets.")
        names = {"button": _("Floating button"), "tab": _("Slide-out tab"), "inline": _("Inline")}
        return format_html_join(
            "",
            '<p><strong>{}</strong></p><pre class="widget-snippet">{}</pre>',
            (
                (names[form], snippet(base_url=self._base_url, queue=widget.queue, form=form))
                for form in FORMS
            ),
        ) + format_html(
            "<p>{}</p>",
            _(
                "Paste one into the library's page where the link should be; "
                "docs/embedding.md says more."
            ),
        )


class QueueWithWidgetAdmin(QueueAdmin):
    inlines = [*QueueAdmin.inlines, WidgetInline]


admin.site.unregister(Queue)
admin.site.register(Queue, QueueWithWidgetAdmin)
