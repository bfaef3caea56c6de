from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from accounts.models import Librarian, Library

User = get_user_model()


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "website"]
    list_filter = ["kind"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "website"]}),
        (
            "Policy page",
            {
                "fields": ["policy"],
                "description": "Librarians read this inside every session with its patrons.",
            },
        ),
    ]


class LibrarianInline(admin.StackedInline):
    model = Librarian
    can_delete = False
    fk_name = "user"
    verbose_name = "librarian profile"
    fields = ["display_name", "staff_id", "library", "primary_queue", "alert_sound", "alert_popup"]
    autocomplete_fields = ["primary_queue"]


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Users with their librarian profile inline: one page per staff member."""

    inlines = [LibrarianInline]
    list_display = ["username", "librarian_name", "librarian_library", "is_active", "is_staff"]
    list_select_related = ["librarian", "librarian__library"]

    @admin.display(description="Librarian", ordering="librarian__display_name")
    def librarian_name(self, user: object) -> str:
        librarian = getattr(user, "librarian", None)
        return str(librarian) if librarian else "-"

    @admin.display(description="Library", ordering="librarian__library__name")
    def librarian_library(self, user: object) -> str:
        librarian = getattr(user, "librarian", None)
        return librarian.library.name if librarian else "-"


@admin.register(Librarian)
class LibrarianAdmin(admin.ModelAdmin):
    list_display = ["display_name", "staff_id", "library", "primary_queue", "user"]
    list_filter = ["library"]
    search_fields = ["display_name", "staff_id", "user__username"]
    list_select_related = ["library", "primary_queue", "user"]
    autocomplete_fields = ["user", "primary_queue"]
