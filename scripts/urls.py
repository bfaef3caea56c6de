from django.urls import path

from scripts import views

urlpatterns = [
    path("console/scripts/", views.script_list_view, name="script-list"),
    path("console/scripts/picker/", views.script_picker_view, name="script-picker"),
    path("console/scripts/add/", views.script_add_view, name="script-add"),
    path("console/scripts/<int:script_id>/edit/", views.script_edit_view, name="script-edit"),
    path(
        "console/scripts/<int:script_id>/delete/",
        views.script_delete_view,
        name="script-delete",
    ),
]
