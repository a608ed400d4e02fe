from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("feedback/", views.feedback_queue_view, name="queue"),
    path("feedback/bulk/", views.feedback_bulk_view, name="feedback-bulk"),
    path("feedback/<int:pk>/assign/", views.feedback_assign_view, name="feedback-assign"),
    path("feedback/<int:pk>/status/", views.feedback_status_view, name="feedback-status"),
    path("feedback/<int:pk>/respond/", views.feedback_respond_view, name="feedback-respond"),
    path("records/", views.service_queue_view, name="service-queue"),
    path("records/bulk/", views.service_bulk_view, name="service-bulk"),
    path("records/<int:pk>/assign/", views.service_assign_view, name="service-assign"),
    path("records/<int:pk>/follow-up/", views.service_follow_up_view, name="service-follow-up"),
]
