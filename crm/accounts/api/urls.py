"""API routes of users, teams and tokens, registered by ``crm.api_urls``."""

from .views import APITokenViewSet, TeamViewSet, UserViewSet

routes = [
    ("users", UserViewSet, "user"),
    ("teams", TeamViewSet, "team"),
    ("api-tokens", APITokenViewSet, "api-token"),
]
