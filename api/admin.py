"""The admin's API keys: a supervisor makes them for their own library.

Made with a name, the scopes and an optional expiry; the key itself is
shown once, in the message after saving (djangorestframework-api-key's
admin), and only its prefix and hash are kept. A supervisor sees and makes
their own library's keys only (a superuser every library's). Revoking is
for good; the last use shows in the list.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from accounts.models import Library
from accounts.selectors import librarian_of
from api.models import LibraryAPIKey, Scope

# The package's own key model has no library: ours replaces it.
admin.site.unregister(APIKey)


def _library_of(request: HttpRequest) -> Library | None:
    """The supervisor's library; None for a superuser (every library)."""
    if request.user.is_superuser:
        return None
    librarian = librarian_of(request.user)
    return librarian.library if librarian else None


class LibraryAPIKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do; every other endpoint refuses it. "
        "Give it no more than it needs.",
    )

    class Meta:
        model = LibraryAPIKey
        fields = ["name", "library", "scopes", "expiry_date", "revoked"]


@admin.register(LibraryAPIKey)
class LibraryAPIKeyAdmin(APIKeyModelAdmin):
    form = LibraryAPIKeyForm
    list_display = (  # type: ignore[assignment]
        "name",
        "prefix",
        "library",
        "scope_list",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
        "last_used_at",
    )
    list_filter = ("library", "revoked")  # type: ignore[assignment]
    search_fields = ("name", "prefix")
    list_select_related = ("library",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[LibraryAPIKey]:
        keys = super().get_queryset(request)
        if request.user.is_superuser:
            return keys
        library = _library_of(request)
        return keys.filter(library=library) if library else keys.none()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "library" and not request.user.is_superuser:
            library = _library_of(request)
            kwargs["queryset"] = (
                Library.objects.filter(pk=library.pk) if library else Library.objects.none()
            )
            kwargs["initial"] = library
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "last_used_at") if obj is not None else fields

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any = None, change: bool = False
    ) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="scopes")
    def scope_list(self, key: LibraryAPIKey) -> str:
        labels = dict(Scope.choices)
        return ", ".join(str(labels.get(scope, scope)) for scope in key.scopes) or "—"
