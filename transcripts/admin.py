from django.contrib import admin

from queues.admin import ReadOnlyAdminMixin
from transcripts.models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["session", "seq", "created_at", "kind", "visibility", "author_name"]
    list_filter = ["kind", "visibility"]
    search_fields = ["text", "author_name"]
    list_select_related = ["session"]
    fields = ["session", "seq", "created_at", "kind", "visibility", "author", "author_name", "text"]
    readonly_fields = fields
