"""Library scripts and saved pages, managed by supervisors; librarians'
personal scripts are shown, read-only (theirs to change, in the console)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from scripts.forms import LibraryScriptAdminForm, SavedPageAdminForm
from scripts.models import SavedPage, Script


class ScriptKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("library", "Library scripts"), ("personal", "Personal scripts")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Script]) -> QuerySet[Script]:
        if self.value() == "library":
            return queryset.filter(library__isnull=False)
        if self.value() == "personal":
            return queryset.filter(owner__isnull=False)
        return queryset


@admin.register(Script)
class ScriptAdmin(admin.ModelAdmin):
    form = LibraryScriptAdminForm
    list_display = ["title", "shortcut_shown", "whose", "updated_at"]
    list_filter = [ScriptKindFilter, "library"]
    search_fields = ["title", "shortcut", "text"]
    list_select_related = ["library", "owner"]

    def get_fields(self, request: HttpRequest, obj: Script | None = None) -> Any:
        if obj is not None and obj.owner_id is not None:
            return ["owner", "title", "text", "shortcut", "updated_at"]
        return ["library", "title", "text", "shortcut"]

    def get_readonly_fields(self, request: HttpRequest, obj: Script | None = None) -> Any:
        if obj is not None and obj.owner_id is not None:
            return self.get_fields(request, obj)
        return []

    def has_change_permission(self, request: HttpRequest, obj: Script | None = None) -> bool:
        # A librarian's own script is theirs to change (Settings in the console).
        if obj is not None and obj.owner_id is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Script | None = None) -> bool:
        if obj is not None and obj.owner_id is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Script]) -> None:
        # "Delete selected" deletes library scripts only, as the page of one does.
        super().delete_queryset(request, queryset.filter(owner__isnull=True))

    @admin.display(description="Shortcut", ordering="shortcut")
    def shortcut_shown(self, script: Script) -> str:
        return f"/{script.shortcut}" if script.shortcut else "-"

    @admin.display(description="Whose")
    def whose(self, script: Script) -> str:
        if script.owner is not None:
            return f"Personal: {script.owner.display_name}"
        return f"Library: {script.library}"


@admin.register(SavedPage)
class SavedPageAdmin(admin.ModelAdmin):
    form = SavedPageAdminForm
    list_display = ["title", "url", "library"]
    list_filter = ["library"]
    search_fields = ["title", "url"]
    list_select_related = ["library"]
