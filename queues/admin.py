from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from core.hours_forms import HoursForm, OpeningPeriodFormSet, SpecialDayFormSet
from queues.models import Membership, Queue, QueueOpeningPeriod, QueueSpecialDay, QueueTier
from queues.tiers import DEFAULT_TIERS, GROUPS, tiers_problems


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["librarian"]
    fields = ["librarian", "is_backup", "is_monitoring", "monitoring_since"]
    readonly_fields = ["is_monitoring", "monitoring_since"]


class QueueTierForm(forms.ModelForm):
    def has_changed(self) -> bool:
        # A default tier shown for a queue without tiers of its own is saved
        # with the others: the list saved is the list shown.
        return (self.instance.pk is None and bool(self.initial)) or super().has_changed()


class QueueTierFormSet(BaseInlineFormSet):
    """The queue's tiers, refused as a whole when they make no sense
    (queues/tiers.py): none at 0 s, a group twice, negative seconds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        if instance is None or instance.pk is None or not instance.tiers.exists():
            kwargs.setdefault(
                "initial",
                [
                    {"after_seconds": tier.after_seconds, **{g: g in tier.groups for g in GROUPS}}
                    for tier in DEFAULT_TIERS
                ],
            )
        super().__init__(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        tiers = [
            (
                form.cleaned_data["after_seconds"],
                frozenset(g for g in GROUPS if form.cleaned_data[g]),
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        problems = tiers_problems(tiers)
        if problems:
            raise ValidationError(problems)


class QueueTierInline(admin.TabularInline):
    model = QueueTier
    form = QueueTierForm
    formset = QueueTierFormSet
    fields = ["after_seconds", "home", "cooperative", "backup"]
    verbose_name_plural = (
        "roll-over tiers (who sees a waiting request, from how many seconds on; "
        "none: the patron's own library at once, the cooperative after 40 s, backup after 120 s)"
    )

    def get_extra(self, request: HttpRequest, obj: Queue | None = None, **kwargs: Any) -> int:
        # A queue on the defaults shows them, to keep or change.
        return len(DEFAULT_TIERS) if obj is None or not obj.tiers.exists() else 0


class QueueOpeningPeriodInline(admin.TabularInline):
    model = QueueOpeningPeriod
    form = HoursForm
    formset = OpeningPeriodFormSet
    extra = 0
    verbose_name_plural = (
        "the queue's own weekly hours (none: its library's; a weekday without a period is closed)"
    )


class QueueSpecialDayInline(admin.TabularInline):
    model = QueueSpecialDay
    form = HoursForm
    formset = SpecialDayFormSet
    extra = 0
    verbose_name_plural = "the queue's own holidays and special days (no times: closed all day)"


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "library_names", "is_open", "email_required"]
    list_filter = ["is_open", "email_required", "libraries"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["libraries"]
    inlines = [MembershipInline, QueueTierInline, QueueOpeningPeriodInline, QueueSpecialDayInline]

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("libraries")

    @admin.display(description="Libraries")
    def library_names(self, queue: Queue) -> str:
        return ", ".join(library.name for library in queue.libraries.all())


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["librarian", "queue", "is_backup", "is_monitoring", "monitoring_since"]
    list_filter = ["queue", "is_backup", "is_monitoring"]
    search_fields = ["librarian__display_name", "librarian__staff_id", "queue__name"]
    autocomplete_fields = ["librarian", "queue"]
    list_select_related = ["librarian", "queue"]
