"""The resources of campaigns (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import MANAGERS, Resource, register

from .api.views import CampaignViewSet, ParticipationViewSet

register(
    Resource("campaigns", CampaignViewSet, basename="campaign", update=MANAGERS, governed=True),
    Resource(
        "participations",
        ParticipationViewSet,
        basename="participation",
        governed=True,
        archive=(6, _("Campaign participation history")),
    ),
)
