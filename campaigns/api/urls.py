"""API routes of campaigns, registered by ``crm.api_urls``."""

from .views import CampaignViewSet, ParticipationViewSet

routes = [
    ("campaigns", CampaignViewSet, "campaign"),
    ("participations", ParticipationViewSet, "participation"),
]
