"""API routes of access control, registered by ``crm.api_urls``."""

from .views import FieldPermissionViewSet

routes = [("field-permissions", FieldPermissionViewSet, "field-permission")]
