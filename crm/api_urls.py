"""The ``/api/v1/`` router: each app lists its viewsets in ``<app>/api/urls.py`` as ``routes``.

Route prefixes are plural and hyphenated; they are also the resource names API token
scopes refer to (``customers:read``, ``transactions:write`` ...).
"""

from __future__ import annotations

from importlib import import_module

from rest_framework.routers import DefaultRouter

ROUTE_MODULES = (
    "crm.accounts.api.urls",
    "crm.audit.api.urls",
    "crm.access.api.urls",
    "customers.api.urls",
    "transactions.api.urls",
    "feedback.api.urls",
    "campaigns.api.urls",
    "tiers.api.urls",
    "risk.api.urls",
)

router = DefaultRouter()
for module_name in ROUTE_MODULES:
    for prefix, viewset, basename in import_module(module_name).routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls


def resource_names() -> list[str]:
    """The names API tokens may be scoped to."""
    return sorted({prefix for prefix, _viewset, _basename in router.registry})
