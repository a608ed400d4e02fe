from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [
    path("", views.inbox_view, name="inbox"),
    path("groups/status/", views.group_status_view, name="group-status"),
    path("bulk/", views.bulk_view, name="bulk"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/status/", views.status_view, name="status"),
    path("<int:pk>/assign/", views.assign_view, name="assign"),
    path("<int:pk>/comment/", views.comment_view, name="comment"),
    path("scans/", views.ScansView.as_view(), name="scans"),
    path("scans/start/", views.ScanStartView.as_view(), name="scan-start"),
]
