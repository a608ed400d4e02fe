"""Field-permission endpoint: admins only."""

from __future__ import annotations

from crm.core.api import ScopedModelViewSet

from .. import services
from ..models import FieldPermission
from .serializers import FieldPermissionSerializer


class FieldPermissionViewSet(ScopedModelViewSet):
    model = FieldPermission
    resource = "field-permissions"
    serializer_class = FieldPermissionSerializer
    filterset_fields = ("resource", "field", "role", "level")
    ordering_fields = ("resource", "field", "role")
    ordering = ("resource", "field", "role")
    create_service = staticmethod(services.field_permission_create)
    update_service = staticmethod(services.field_permission_update)
    delete_service = staticmethod(services.field_permission_delete)
