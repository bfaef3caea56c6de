from django.contrib import admin
from django.http import HttpRequest

from queues.models import ChatSession, Membership, Queue
from transcripts.models import Message


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["librarian"]
    fields = ["librarian", "is_monitoring", "monitoring_since"]
    readonly_fields = ["is_monitoring", "monitoring_since"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "library_names", "is_open", "email_required"]
    list_filter = ["is_open", "email_required", "libraries"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["libraries"]
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("libraries")

    @admin.display(description="Libraries")
    def library_names(self, queue: Queue) -> str:
        return ", ".join(library.name for library in queue.libraries.all())


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["librarian", "queue", "is_monitoring", "monitoring_since"]
    list_filter = ["queue", "is_monitoring"]
    search_fields = ["librarian__display_name", "librarian__staff_id", "queue__name"]
    autocomplete_fields = ["librarian", "queue"]
    list_select_related = ["librarian", "queue"]


class ReadOnlyAdminMixin:
    """The record of what was said is not edited from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Message
    fields = ["seq", "created_at", "kind", "visibility", "author_name", "text"]
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
    fields = [
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
    ]
    readonly_fields = fields
    inlines = [MessageInline]
