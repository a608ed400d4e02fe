"""The resources of access control (see ``crm.access.registry``)."""

from crm.accounts.choices import Role

from .api.views import ChangeRequestViewSet, FieldPermissionViewSet
from .registry import ADMINS, NOBODY, STAFF_ROLES, Resource, register

#: Who decides a proposed change (a manager only for their teams' records).
DECIDERS = frozenset({Role.MANAGER, Role.ADMIN})

register(
    Resource("field-permissions", FieldPermissionViewSet, basename="field-permission", update=ADMINS),
    Resource(
        "change-requests",
        ChangeRequestViewSet,
        basename="change-request",
        update=NOBODY,
        actions={"approve": DECIDERS, "reject": DECIDERS, "bulk_approve": DECIDERS, "withdraw": STAFF_ROLES},
    ),
)
