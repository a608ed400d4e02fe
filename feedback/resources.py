"""The resources of service and feedback (see ``crm.access.registry``)."""

from crm.access.registry import MANAGERS, Resource, register

from .api.views import FeedbackViewSet, SatisfactionResponseViewSet, ServiceRecordViewSet

register(
    Resource("service-records", ServiceRecordViewSet, basename="service-record", governed=True),
    Resource("feedback", FeedbackViewSet, basename="feedback", delete=MANAGERS, governed=True),
    Resource(
        "satisfaction-responses",
        SatisfactionResponseViewSet,
        basename="satisfaction-response",
        delete=MANAGERS,
        governed=True,
    ),
)
