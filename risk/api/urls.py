"""API routes of risk early-warning, registered by ``crm.api_urls``."""

from .views import RiskAlertViewSet, RiskRuleViewSet

routes = [
    ("risk-rules", RiskRuleViewSet, "risk-rule"),
    ("risk-alerts", RiskAlertViewSet, "risk-alert"),
]
