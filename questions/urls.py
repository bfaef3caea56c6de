from django.urls import path

from questions import staff_views, views

urlpatterns = [
    path("ask/<slug:slug>/question/", views.question_ask_form, name="question-ask"),
    path("chat/<str:token>/question/", views.question_leave_form, name="question-leave"),
    path("chat/<str:token>/question/offer/", views.question_offer, name="question-offer"),
    path("question/<str:token>/", views.question_confirmation, name="question-confirmation"),
    path("console/questions/", staff_views.question_list_view, name="question-list"),
    path(
        "console/questions/<int:question_id>/",
        staff_views.question_detail_view,
        name="question-detail",
    ),
    path(
        "console/questions/<int:question_id>/take/",
        staff_views.question_take_view,
        name="question-take",
    ),
    path(
        "console/questions/<int:question_id>/answer/",
        staff_views.question_answer_view,
        name="question-answer",
    ),
    path(
        "console/questions/<int:question_id>/note/",
        staff_views.question_note_view,
        name="question-note",
    ),
    path(
        "console/questions/<int:question_id>/close/",
        staff_views.question_close_view,
        name="question-close",
    ),
]
