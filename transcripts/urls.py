from django.urls import path

from transcripts import views

urlpatterns = [
    path("", views.history_list, name="history"),
    path("<int:session_id>/", views.history_detail, name="history-detail"),
    path("im/", views.im_history_list, name="im-history"),
    path("im/<int:im_id>/", views.im_history_detail, name="im-history-detail"),
]
