from django.urls import path

from transcripts import views

urlpatterns = [
    path("", views.history_list, name="history"),
    path("<int:session_id>/", views.history_detail, name="history-detail"),
]
