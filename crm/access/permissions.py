"""Who may call which endpoint: role for people, token scopes for integrations.

Reading is open to every signed-in user (what they read is cut down by the record
scope).  Writing needs a role listed on the viewset (``write_roles`` / ``delete_roles``,
or ``action_roles[action]`` for one action); an API token additionally needs a scope
that covers the resource.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from crm.accounts.choices import Role

STAFF_ROLES = frozenset({Role.REP, Role.MANAGER, Role.ADMIN, Role.INTEGRATION})
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN, Role.INTEGRATION})
ADMINS = frozenset({Role.ADMIN})
READ_ACTIONS = frozenset({"reveal"})


def role_of(user: Any) -> str:
    return Role.ADMIN if user.is_superuser else str(user.role)


class RolePermission(BasePermission):
    """Authenticated, with a role (and token scope) that allows the method on the resource."""

    message = "You are not allowed to do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        resource = getattr(view, "resource", None)
        # Revealing a value is a read (it changes nothing), though it is a POST with a reason.
        write = request.method not in SAFE_METHODS and getattr(view, "action", None) not in READ_ACTIONS
        token = getattr(request, "auth", None)
        if resource and token is not None and hasattr(token, "allows") and not token.allows(resource, write=write):
            return False
        if not write:
            return True
        by_action = getattr(view, "action_roles", {}).get(getattr(view, "action", None))
        if by_action is not None:
            allowed = by_action
        elif request.method == "DELETE":
            allowed = getattr(view, "delete_roles", None) or getattr(view, "write_roles", None) or STAFF_ROLES
        else:
            allowed = getattr(view, "write_roles", None) or STAFF_ROLES
        return role_of(user) in allowed
