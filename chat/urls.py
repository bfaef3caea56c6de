from django.urls import path

from chat import views

urlpatterns = [
    path("ask/", views.ask_list, name="ask-list"),
    path("ask/<slug:slug>/", views.ask_form, name="ask-form"),
    path("chat/<str:token>/", views.patron_chat, name="patron-chat"),
]
