"""Risk rule and alert endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from crm.access.reveal import RevealMixin
from crm.core.api import JobViewSet, ScopedModelViewSet

from .. import selectors, services
from ..choices import ScanTrigger
from ..models import AlertComment, RiskAlert, RiskRule, RiskScan
from .filtersets import AlertCommentFilterSet, RiskAlertFilterSet, RiskRuleFilterSet
from .serializers import AlertCommentSerializer, RiskAlertSerializer, RiskRuleSerializer, RiskScanSerializer


class RiskRuleViewSet(ScopedModelViewSet):
    """What the risk scan watches for; everyone reads the rules, admins set them."""

    model = RiskRule
    resource = "risk-rules"
    serializer_class = RiskRuleSerializer
    filterset_class = RiskRuleFilterSet
    search_fields = ("code", "name_zh", "name_en")
    ordering_fields = ("kind", "code", "severity")
    ordering = ("kind", "code")
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
    search_fields = ("title", "subject", "customer__name", "rule__name_zh", "rule__name_en")
    ordering_fields = ("raised_at", "severity", "status")
    ordering = ("-raised_at", "-id")
    create_service = staticmethod(services.risk_alert_create)
    update_service = staticmethod(services.risk_alert_update)
    delete_service = staticmethod(services.risk_alert_delete)

    selector = staticmethod(selectors.risk_alert_list)


def _comment_create(*, actor: Any, data: dict[str, Any]) -> AlertComment:
    return services.alert_comment_add(actor=actor, alert=data["alert"], body=data["body"])


class AlertCommentViewSet(ScopedModelViewSet):
    """Notes on the alerts the caller may see (``?alert=``); kept as written, never edited."""

    model = AlertComment
    resource = "alert-comments"
    serializer_class = AlertCommentSerializer
    filterset_class = AlertCommentFilterSet
    search_fields = ("body",)
    ordering_fields = ("created_at", "id")
    ordering = ("created_at", "id")
    http_method_names = ["get", "post", "head", "options"]
    select_related = ("author",)
    create_service = staticmethod(_comment_create)


@extend_schema_view(start=extend_schema(request=None, responses={202: RiskScanSerializer}))
class RiskScanViewSet(JobViewSet):
    """Risk scans with their state and per-rule summary.  ``POST start/`` queues one now
    (managers); if one is already queued or running, that one is returned."""

    model = RiskScan
    resource = "risk-scans"
    serializer_class = RiskScanSerializer

    @staticmethod
    def start_job(actor: Any) -> RiskScan:
        return services.risk_scan_start(actor=actor, trigger=ScanTrigger.MANUAL)
