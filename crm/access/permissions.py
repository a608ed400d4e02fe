"""Who may call which endpoint: role for people, token scopes for integrations.

Reading is open to every signed-in user (what they read is cut down by the record
scope).  Writing asks the registry (:func:`crm.access.registry.may`) whether the
user's role may do the view's act to its resource; an API token additionally needs a
scope that covers the resource.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .registry import CREATE, DELETE, UPDATE, may

#: Actions that are POSTs but change nothing: revealing a value is a read.
READ_ACTIONS = frozenset({"reveal"})
#: The acts of DRF's own actions; any other action is asked for by its name.
_ACTS = {"create": CREATE, "update": UPDATE, "partial_update": UPDATE, "destroy": DELETE}


def act_of(view: Any, method: str) -> str:
    """The registry's name for what a write request does."""
    action = getattr(view, "action", None)
    if action in _ACTS:
        return _ACTS[action]
    if action:
        return str(action)
    return DELETE if method == "DELETE" else UPDATE


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
        return may(user, act_of(view, request.method or ""), str(resource or ""))
