from typing import cast

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from chat.blocks import patron_block_lift
from chat.models import ChatSession, Hold, Message, Participant, PatronBlock
from chat.selectors import waiting_too_long
from core.admin import ReadOnlyAdminMixin


class MessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Message
    fields = ("seq", "created_at", "kind", "visibility", "author_name", "text", "url")
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0


class HoldInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Who held the session, from when until it left their hands, and how."""

    model = Hold
    verbose_name = "hold"
    verbose_name_plural = "Held by"
    fields = ("librarian", "started_at", "ended_at", "ended_how")
    readonly_fields = fields
    ordering = ["ended_at"]
    extra = 0


class ParticipantInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Who else was in the session, and when: librarians who joined, supervisors who watched."""

    model = Participant
    fk_name = "session"
    verbose_name = "librarian beside the primary"
    verbose_name_plural = "Librarians who joined or watched"
    fields = ("librarian", "role", "invited_by", "started_at", "ended_at")
    readonly_fields = fields
    ordering = ["started_at"]
    extra = 0


class WaitingFilter(admin.SimpleListFilter):
    """What a supervisor looks for first: requests nobody has picked up, and
    those past their queue's "waiting too long" threshold."""

    title = "waiting"
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("now", "Waiting now"), ("too_long", "Waiting too long")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ChatSession]) -> QuerySet:
        if self.value() == "now":
            return queryset.filter(state=ChatSession.State.WAITING)
        if self.value() == "too_long":
            return waiting_too_long(queryset)
        return queryset


@admin.register(ChatSession)
class ChatSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "queue",
        "library",
        "patron_name",
        "state",
        "waited",
        "primary",
        "closed_by",
    ]
    list_filter = [WaitingFilter, "state", "queue", "library", "closed_by"]
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
    inlines = [HoldInline, ParticipantInline, MessageInline]

    @admin.display(description="Waited")
    def waited(self, session: ChatSession) -> str:
        """How long a waiting request has waited, marked past its queue's threshold."""
        if session.state != ChatSession.State.WAITING:
            return "-"
        seconds = int((timezone.now() - session.waiting_since).total_seconds())
        waited = f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
        limit = session.queue.waiting_alert_seconds
        return f"{waited} (waiting too long)" if limit and seconds >= limit else waited


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["session", "seq", "created_at", "kind", "visibility", "author_name"]
    list_filter = ["kind", "visibility"]
    search_fields = ["text", "author_name", "url"]
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
        "url",
    )
    readonly_fields = fields


@admin.register(PatronBlock)
class PatronBlockAdmin(admin.ModelAdmin):
    """Blocks librarians made from a session: who, when, until when, why. A
    supervisor lifts one early with the action; nothing else is edited."""

    list_display = [
        "created_at",
        "blocked_by",
        "expires_at",
        "standing",
        "reason",
        "session",
        "lifted_at",
        "lifted_by",
    ]
    list_select_related = ["blocked_by", "lifted_by", "session"]
    list_filter = ["lifted_at"]
    date_hierarchy = "created_at"
    fields = (
        "session",
        "blocked_by",
        "created_at",
        "expires_at",
        "reason",
        "lifted_at",
        "lifted_by",
    )
    readonly_fields = fields
    actions = ["lift"]

    @admin.display(boolean=True, description="in force")
    def standing(self, block: PatronBlock) -> bool:
        return block.lifted_at is None and block.expires_at > timezone.now()

    @admin.action(description="Lift the selected blocks", permissions=["change"])
    def lift(self, request: HttpRequest, queryset: QuerySet[PatronBlock]) -> None:
        # The admin's views are for logged-in staff only.
        supervisor = cast(AbstractBaseUser, request.user)
        lifted = sum(patron_block_lift(block=block, by=supervisor) for block in queryset)
        self.message_user(request, f"{lifted} block(s) lifted.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
