from django.contrib import admin
from django.http import HttpRequest

from core.hours_forms import HoursForm, OpeningPeriodFormSet, SpecialDayFormSet
from queues.models import Membership, Queue, QueueOpeningPeriod, QueueSpecialDay


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["librarian"]
    fields = ["librarian", "is_monitoring", "monitoring_since"]
    readonly_fields = ["is_monitoring", "monitoring_since"]


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
    inlines = [MembershipInline, QueueOpeningPeriodInline, QueueSpecialDayInline]

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("libraries")

    @admin.display(description="Libraries")
    def library_names(self, queue: Queue) -> str:
        return ", ".join(library.name for library in queue.libraries.all())


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["librarian", "queue", "is_monitoring", "monitoring_since"]
    list_filter = ["queue", "is_monitoring"]
    search_fields = ["librarian__display_name", "librarian__staff_id", "queue__name"]
    autocomplete_fields = ["librarian", "queue"]
    list_select_related = ["librarian", "queue"]
