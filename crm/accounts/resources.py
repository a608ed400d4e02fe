"""The resources of users, teams and API tokens (see ``crm.access.registry``)."""

from crm.access.registry import ADMINS, Resource, register

from .api.views import APITokenViewSet, TeamViewSet, UserViewSet

register(
    Resource("users", UserViewSet, basename="user", update=ADMINS),
    Resource("teams", TeamViewSet, basename="team", update=ADMINS),
    # Anyone may hold tokens of their own; which tokens they see and revoke is the scope's answer.
    Resource("api-tokens", APITokenViewSet, basename="api-token"),
)
