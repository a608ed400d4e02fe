"""The resources of the customer archive (see ``crm.access.registry``)."""

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
    ),
    Resource("contacts", ContactViewSet, basename="contact", governed=True),
    Resource("activities", ActivityViewSet, basename="activity", governed=True),
    Resource("service-needs", ServiceNeedViewSet, basename="service-need", governed=True),
)
