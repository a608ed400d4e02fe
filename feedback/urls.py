from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("feedback/", views.feedback_queue_view, name="queue"),
    path("records/", views.service_queue_view, name="service-queue"),
]
