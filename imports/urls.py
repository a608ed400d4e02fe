"""The import pages, under ``/imports/``."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.history_view, name="history"),
    path("new/", views.upload_view, name="upload"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/errors.xlsx", views.report_view, name="report"),
    path("<int:pk>/undo/", views.undo_view, name="undo"),
    path("<int:pk>/cancel/", views.cancel_view, name="cancel"),
    path("<int:pk>/resume/", views.resume_view, name="resume"),
    path("templates/<slug:kind>.xlsx", views.template_view, name="template"),
]
