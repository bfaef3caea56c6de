from django.urls import path

from stats import views

urlpatterns = [
    path("", views.stats_page, name="stats"),
    path("chart/<slug:name>.svg", views.chart_view, name="stats-chart"),
    path("csv/<slug:name>.csv", views.csv_view, name="stats-csv"),
    path("export/sessions.csv", views.export_view, name="stats-export"),
]
