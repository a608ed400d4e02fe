from django.urls import path

from . import views

app_name = "duplicates"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/not-duplicate/", views.not_duplicate_view, name="not-duplicate"),
    path("<int:pk>/merge/", views.merge_view, name="merge"),
    path("<int:pk>/unmerge/", views.unmerge_view, name="unmerge"),
]
