"""Admin pieces every app shares."""

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """The record of what was said is not edited from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
