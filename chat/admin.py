from django.contrib import admin

from chat.models import ChatSession, Message
from core.admin import ReadOnlyAdminMixin


class MessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Message
    fields = ("seq", "created_at", "kind", "visibility", "author_name", "text")
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0


@admin.register(ChatSession)
class ChatSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "queue",
        "library",
        "patron_name",
        "state",
        "primary",
        "closed_by",
    ]
    list_filter = ["state", "queue", "library", "closed_by"]
    search_fields = ["patron_name", "patron_email", "question"]
    date_hierarchy = "created_at"
    list_select_related = ["queue", "library", "primary"]
    fields = (
        "queue",
        "library",
        "patron_name",
        "patron_email",
        "question",
        "state",
        "primary",
        "created_at",
        "accepted_at",
        "closed_at",
        "closed_by",
        "transcript_sent_at",
    )
    readonly_fields = fields
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["session", "seq", "created_at", "kind", "visibility", "author_name"]
    list_filter = ["kind", "visibility"]
    search_fields = ["text", "author_name"]
    list_select_related = ["session"]
    fields = (
        "session",
        "seq",
        "created_at",
        "kind",
        "visibility",
        "author",
        "author_name",
        "text",
    )
    readonly_fields = fields
