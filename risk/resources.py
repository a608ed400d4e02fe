"""The resources of risk early warning (see ``crm.access.registry``)."""

from django.utils.translation import gettext_lazy as _

from crm.access.registry import ADMINS, MANAGERS, Resource, register

from .api.views import AlertCommentViewSet, RiskAlertViewSet, RiskRuleViewSet, RiskScanViewSet

register(
    Resource("risk-rules", RiskRuleViewSet, basename="risk-rule", update=ADMINS),
    Resource(
        "risk-alerts",
        RiskAlertViewSet,
        basename="risk-alert",
        # Raising an alert by hand and handing one to someone else are a manager's acts;
        # working one is everyone's.
        create=MANAGERS,
        delete=MANAGERS,
        actions={"assign": MANAGERS},
        governed=True,
        archive=(7, _("Risk management and alerts")),
    ),
    Resource("alert-comments", AlertCommentViewSet, basename="alert-comment", governed=True),
    Resource("risk-scans", RiskScanViewSet, basename="risk-scan", actions={"start": MANAGERS}),
)
