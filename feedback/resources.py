"""The resources of service and feedback (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, Resource, register

from .api.views import FeedbackViewSet, SatisfactionResponseViewSet, ServiceRecordViewSet

register(
    Resource(
        "service-records",
        ServiceRecordViewSet,
        basename="service-record",
        governed=True,
        archive=(8, _("Service records")),
    ),
    Resource(
        "feedback",
        FeedbackViewSet,
        basename="feedback",
        delete=MANAGERS,
        governed=True,
        archive=(4, _("Feedback and suggestions")),
    ),
    Resource(
        "satisfaction-responses",
        SatisfactionResponseViewSet,
        basename="satisfaction-response",
        delete=MANAGERS,
        governed=True,
        archive=(11, _("Satisfaction answers")),
    ),
)
