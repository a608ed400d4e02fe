"""API routes of the customer archive, registered by ``crm.api_urls``."""

from .views import ActivityViewSet, ContactViewSet, CustomerViewSet, ServiceNeedViewSet

routes = [
    ("customers", CustomerViewSet, "customer"),
    ("contacts", ContactViewSet, "contact"),
    ("activities", ActivityViewSet, "activity"),
    ("service-needs", ServiceNeedViewSet, "service-need"),
]
