"""The resources of star tiers (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import ADMINS, MANAGERS, Resource, register

from .api.views import ScoringPolicyViewSet, TierChangeViewSet, TierRunViewSet, TierViewSet

register(
    Resource("tiers", TierViewSet, basename="tier", update=ADMINS),
    # Setting a customer's tier by hand is a manager's act.
    Resource(
        "tier-changes",
        TierChangeViewSet,
        basename="tier-change",
        actions={"override": MANAGERS},
        archive=(9, _("Tier history")),
    ),
    Resource("tier-runs", TierRunViewSet, basename="tier-run", actions={"start": MANAGERS}),
    Resource("scoring-policies", ScoringPolicyViewSet, basename="scoring-policy", update=ADMINS),
)
