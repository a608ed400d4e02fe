from django.urls import path

from . import views

app_name = "tiers"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("moves/", views.moves_view, name="moves"),
    path("runs/", views.runs_view, name="runs"),
    path("runs/start/", views.start_view, name="start"),
]
