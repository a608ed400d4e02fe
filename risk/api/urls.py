"""API routes of risk early-warning, registered by ``crm.api_urls``."""

from .views import AlertCommentViewSet, RiskAlertViewSet, RiskRuleViewSet, RiskScanViewSet

routes = [
    ("risk-rules", RiskRuleViewSet, "risk-rule"),
    ("risk-alerts", RiskAlertViewSet, "risk-alert"),
    ("alert-comments", AlertCommentViewSet, "alert-comment"),
    ("risk-scans", RiskScanViewSet, "risk-scan"),
]
