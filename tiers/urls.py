from django.urls import path

from . import views

app_name = "tiers"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("moves/", views.moves_view, name="moves"),
    path("runs/", views.RunsView.as_view(), name="runs"),
    path("runs/start/", views.StartView.as_view(), name="start"),
]
