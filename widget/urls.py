from django.urls import path

from widget import views

urlpatterns = [
    path("widget/<slug:slug>/", views.widget_ask, name="widget-ask"),
    path("widget/<slug:slug>/ask/", views.widget_ask_submit, name="widget-ask-submit"),
    path("widget/<slug:slug>/config/", views.widget_config_view, name="widget-config"),
    path("widget/<slug:slug>/chat/<str:token>/", views.widget_chat, name="widget-chat"),
    path("widget/<slug:slug>/chat/<str:token>/question/", views.widget_leave, name="widget-leave"),
    path("widget/<slug:slug>/chat/<str:token>/survey/", views.widget_survey, name="widget-survey"),
    path("widget/<slug:slug>/question/<str:token>/", views.widget_question, name="widget-question"),
]
