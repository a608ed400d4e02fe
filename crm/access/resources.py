"""The resources of access control (see ``crm.access.registry``)."""

from .api.views import FieldPermissionViewSet
from .registry import ADMINS, Resource, register

register(
    Resource("field-permissions", FieldPermissionViewSet, basename="field-permission", update=ADMINS),
)
