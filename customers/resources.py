"""The resources of the customer archive (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, Resource, register

from .api.views import ActivityViewSet, ContactViewSet, CustomerViewSet, ServiceNeedViewSet

register(
    Resource(
        "customers",
        CustomerViewSet,
        basename="customer",
        delete=MANAGERS,
        # Changing many customers at once (owner, tags) is a manager's act.
        actions={"bulk_assign": MANAGERS, "bulk_tag": MANAGERS},
        governed=True,
        archive=(1, _("Basic information")),
    ),
    Resource("contacts", ContactViewSet, basename="contact", governed=True, archive=(2, _("Contact information"))),
    Resource("activities", ActivityViewSet, basename="activity", governed=True, archive=(10, _("Follow-ups"))),
    Resource(
        "service-needs",
        ServiceNeedViewSet,
        basename="service-need",
        governed=True,
        archive=(5, _("Personalised service needs")),
    ),
)
