from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdminMixin
from wrapup.models import ResolutionCode, SubjectTag, Wrapup


@admin.register(ResolutionCode)
class ResolutionCodeAdmin(admin.ModelAdmin):
    list_display = ["label", "library", "follow_up", "position", "active"]
    list_editable = ["position", "active"]
    list_filter = ["library", "active", "follow_up"]
    list_select_related = ["library"]
    fields = ["library", "label", "follow_up", "position", "active"]


@admin.register(SubjectTag)
class SubjectTagAdmin(admin.ModelAdmin):
    list_display = ["name", "library", "active"]
    list_editable = ["active"]
    list_filter = ["library", "active"]
    search_fields = ["name"]
    list_select_related = ["library"]
    fields = ["library", "name", "active"]


@admin.register(Wrapup)
class WrapupAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Wrap-ups are the librarians' own record: read here, written in the console."""

    list_display = ["session", "librarian", "state", "resolution", "read_level", "updated_at"]
    list_filter = ["state", "resolution__library", "read_level"]
    list_select_related = ["session", "librarian", "resolution"]
    fields = (
        "session",
        "librarian",
        "state",
        "resolution",
        "read_level",
        "tag_names",
        "comment",
        "skipped_at",
        "done_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Wrapup]:
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description="subject tags")
    def tag_names(self, wrapup: Wrapup) -> str:
        return ", ".join(tag.name for tag in wrapup.tags.all())
