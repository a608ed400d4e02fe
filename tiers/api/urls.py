"""API routes of tiers, registered by ``crm.api_urls``."""

from .views import ScoringPolicyViewSet, TierChangeViewSet, TierRunViewSet, TierViewSet

routes = [
    ("tiers", TierViewSet, "tier"),
    ("tier-changes", TierChangeViewSet, "tier-change"),
    ("tier-runs", TierRunViewSet, "tier-run"),
    ("scoring-policies", ScoringPolicyViewSet, "scoring-policy"),
]
