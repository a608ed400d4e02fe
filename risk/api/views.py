"""Risk rule and alert endpoints."""

from __future__ import annotations

from crm.access.permissions import ADMINS, MANAGERS
from crm.access.reveal import RevealMixin
from crm.core.api import ScopedModelViewSet

from .. import selectors, services
from ..models import RiskAlert, RiskRule
from .filtersets import RiskAlertFilterSet, RiskRuleFilterSet
from .serializers import RiskAlertSerializer, RiskRuleSerializer


class RiskRuleViewSet(ScopedModelViewSet):
    """What the risk scan watches for; everyone reads the rules, admins set them."""

    model = RiskRule
    resource = "risk-rules"
    serializer_class = RiskRuleSerializer
    filterset_class = RiskRuleFilterSet
    search_fields = ("code", "name")
    ordering_fields = ("kind", "code", "severity")
    ordering = ("kind", "code")
    write_roles = ADMINS
    delete_roles = ADMINS
    create_service = staticmethod(services.risk_rule_create)
    update_service = staticmethod(services.risk_rule_update)
    delete_service = staticmethod(services.risk_rule_delete)

    selector = staticmethod(selectors.risk_rule_list)


class RiskAlertViewSet(RevealMixin, ScopedModelViewSet):
    """Alerts on the customers the caller may see.  Reps work them; managers raise and delete them."""

    model = RiskAlert
    resource = "risk-alerts"
    serializer_class = RiskAlertSerializer
    filterset_class = RiskAlertFilterSet
    search_fields = ("title", "subject", "customer__name")
    ordering_fields = ("raised_at", "severity", "status")
    ordering = ("-raised_at", "-id")
    delete_roles = MANAGERS
    create_service = staticmethod(services.risk_alert_create)
    update_service = staticmethod(services.risk_alert_update)
    delete_service = staticmethod(services.risk_alert_delete)

    selector = staticmethod(selectors.risk_alert_list)

    # Raising an alert by hand is a manager's act; working one is everyone's.
    action_roles = {"create": MANAGERS}
