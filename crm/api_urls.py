"""The ``/api/v1/`` router: one route per resource of the registry (``crm.access.registry``).

Route prefixes are the resource names: plural and hyphenated, and also what API token
scopes refer to (``customers:read``, ``transactions:write`` ...).
"""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from crm.access.registry import all_resources

router = DefaultRouter()
for resource in all_resources():
    router.register(resource.name, resource.viewset, basename=resource.basename)

urlpatterns = router.urls
