from django.urls import path

from surveys import views

urlpatterns = [
    path("chat/<str:token>/survey/", views.patron_survey, name="patron-survey"),
]
