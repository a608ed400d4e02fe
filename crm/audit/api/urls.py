"""API routes of the audit trail, registered by ``crm.api_urls``."""

from .views import AuditEventViewSet

routes = [("audit-events", AuditEventViewSet, "audit-event")]
