from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from questions.models import Question, QuestionEmail, QuestionNote, QuestionPolicy


@admin.register(QuestionPolicy)
class QuestionPolicyAdmin(admin.ModelAdmin):
    list_display = ["queue", "offer_after_seconds", "answer_within", "answer_working_days"]
    list_select_related = ["queue"]
    fields = ["queue", "offer_after_seconds", "answer_within", "answer_working_days"]


class QuestionNoteInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = QuestionNote
    fields = ("created_at", "author_name", "text")
    readonly_fields = fields
    extra = 0


class QuestionEmailInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = QuestionEmail
    fields = ("kind", "sent_at", "due_at", "attempts")
    readonly_fields = fields
    extra = 0


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "created_at", "queue", "library", "patron_email", "state", "taken_by"]
    list_filter = ["state", "queue", "library"]
    search_fields = ["patron_name", "patron_email", "question", "answer"]
    date_hierarchy = "created_at"
    list_select_related = ["queue", "library", "taken_by"]
    fields = (
        "queue",
        "library",
        "patron_name",
        "patron_email",
        "question",
        "session",
        "answer_promise",
        "state",
        "taken_by",
        "taken_at",
        "answer",
        "answered_by",
        "answered_at",
        "created_at",
    )
    readonly_fields = fields
    inlines = [QuestionNoteInline, QuestionEmailInline]
