"""The import pages, under ``/imports/``."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("templates/<slug:kind>.xlsx", views.template_view, name="template"),
]
