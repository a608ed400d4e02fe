"""The resources of the audit trail (see ``crm.access.registry``): read only."""

from crm.access.registry import Resource, register

from .api.views import AuditEventViewSet

register(
    Resource("audit-events", AuditEventViewSet, basename="audit-event"),
)
