from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import models

from accounts.models import Librarian, Library, LibraryOpeningPeriod, LibrarySpecialDay
from core.hours_forms import HoursForm, OpeningPeriodFormSet, SpecialDayFormSet

User = get_user_model()


class LibraryOpeningPeriodInline(admin.TabularInline):
    model = LibraryOpeningPeriod
    form = HoursForm
    formset = OpeningPeriodFormSet
    extra = 1
    verbose_name_plural = "weekly hours (a weekday without a period is closed)"


class LibrarySpecialDayInline(admin.TabularInline):
    model = LibrarySpecialDay
    form = HoursForm
    formset = SpecialDayFormSet
    extra = 1
    verbose_name_plural = "holidays and special days (no times: closed all day)"


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "website"]
    list_filter = ["kind"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    # A web site typed without a scheme means https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "website"]}),
        (
            "Hours",
            {
                "fields": ["time_zone"],
                "description": "The library's queues keep these hours unless a queue has "
                "hours of its own. No weekly hours at all: chat is within hours every day.",
            },
        ),
        (
            "Policy page",
            {
                "fields": ["policy"],
                "description": "Librarians read this inside every session with its patrons.",
            },
        ),
    ]
    inlines = [LibraryOpeningPeriodInline, LibrarySpecialDayInline]


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

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # A supervisor must not reset a superuser's password and become them.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Supervisors manage staff, but only a superuser makes superusers or
        # hands out permissions one by one: no one promotes themselves.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions", "last_login", "date_joined"]
        return readonly

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
