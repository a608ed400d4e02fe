"""API routes of tiers, registered by ``crm.api_urls``."""

from .views import TierChangeViewSet, TierViewSet

routes = [
    ("tiers", TierViewSet, "tier"),
    ("tier-changes", TierChangeViewSet, "tier-change"),
]
