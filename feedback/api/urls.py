"""API routes of service and feedback, registered by ``crm.api_urls``."""

from .views import FeedbackViewSet, SatisfactionResponseViewSet, ServiceRecordViewSet

routes = [
    ("service-records", ServiceRecordViewSet, "service-record"),
    ("feedback", FeedbackViewSet, "feedback"),
    ("satisfaction-responses", SatisfactionResponseViewSet, "satisfaction-response"),
]
