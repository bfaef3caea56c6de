"""The surveys in the admin: each queue's settings; the answers read-only.

A patron's answer is theirs: nobody adds, changes or deletes one here (the
librarian can't edit them; a session's deletion takes its answer with it).
"""

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from surveys.models import Survey, SurveyAnswer


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["queue", "enabled", "ask_helped", "ask_rating", "ask_comment"]
    list_select_related = ["queue"]
    fieldsets = [
        (None, {"fields": ["queue", "enabled"]}),
        ("Did you get the help you needed?", {"fields": ["ask_helped", "helped_question"]}),
        ("How would you rate this chat?", {"fields": ["ask_rating", "rating_question"]}),
        ("Anything you would like to tell us?", {"fields": ["ask_comment", "comment_question"]}),
    ]


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["session", "helped", "rating", "created_at", "language"]
    list_filter = ["helped", "rating", "session__queue"]
    list_select_related = ["session"]
    fields = ("session", "helped", "rating", "comment", "language", "created_at")
    readonly_fields = fields
