from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.files.uploadedfile import UploadedFile
from django.db import models

from accounts.branding import LOGO_FORMATS, logo_clean
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


def _https_urls(field: models.Field, **kwargs: Any) -> Any:
    # A web site typed without a scheme means https, as in the admin's own fields.
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class LibraryAdminForm(forms.ModelForm):
    class Meta:
        model = Library
        formfield_callback = _https_urls
        fields = [
            "name",
            "slug",
            "kind",
            "website",
            "policy",
            "time_zone",
            "logo",
            "logo_alt",
            "brand_color",
            "brand_text_color",
            "link_color",
        ]
        # Typed as #rrggbb: a browser's colour input can't be left empty,
        # and empty is how a library keeps the neutral look.
        widgets = {
            name: forms.TextInput(attrs={"placeholder": "#rrggbb", "size": 8})
            for name in ["brand_color", "brand_text_color", "link_color"]
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The file chooser offers only what is accepted (the server checks anyway).
        accept = ",".join(f"image/{fmt.lower()}" for fmt in LOGO_FORMATS)
        self.fields["logo"].widget.attrs["accept"] = accept

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):  # a new upload, not the stored logo or "clear"
            name = self.cleaned_data.get("slug") or "logo"
            return logo_clean(logo, name=name)
        return logo


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    form = LibraryAdminForm
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
        (
            "Brand on the patron pages",
            {
                "fields": ["logo", "logo_alt", "brand_color", "brand_text_color", "link_color"],
                "description": "The library's logo and colours on its chat form and chat "
                "page (a cooperative queue's form keeps the neutral look). Leave the colours "
                "empty for Reference Chat's own. Text must keep a contrast of 4.5:1 (WCAG "
                "AA): colours that don't are refused, with their ratio.",
            },
        ),
    ]
    inlines = [LibraryOpeningPeriodInline, LibrarySpecialDayInline]


class LibrarianInline(admin.StackedInline):
    model = Librarian
    can_delete = False
    fk_name = "user"
    verbose_name = "librarian profile"
    fields = [
        "display_name",
        "staff_id",
        "library",
        "primary_queue",
        "max_sessions",
        "alert_sound",
        "alert_popup",
    ]
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
