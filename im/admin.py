from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from im.models import ImMessage, ImSession


class ImMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ImMessage
    fields = ("seq", "created_at", "author_name", "text", "noted_in")
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0


@admin.register(ImSession)
class ImSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """IM sessions are kept: supervisors read them here, nobody edits them."""

    list_display = [
        "id", "created_at", "initiator", "recipient", "ended_at", "ended_by", "end_reason"
    ]  # fmt: skip
    list_filter = [("ended_at", admin.EmptyFieldListFilter), "end_reason"]
    search_fields = ["initiator__display_name", "recipient__display_name", "messages__text"]
    date_hierarchy = "created_at"
    list_select_related = ["initiator", "recipient", "ended_by"]
    fields = (
        "initiator", "recipient", "created_at", "about_session", "last_line_at", "ended_at",
        "ended_by", "end_reason",
    )  # fmt: skip
    readonly_fields = fields
    inlines = [ImMessageInline]
