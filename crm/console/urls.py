"""URLs of the admin console, under ``/console/``."""

from django.urls import path

from . import views

app_name = "console"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("fields/", views.FieldPolicyIndexView.as_view(), name="fields"),
    path("fields/<slug:resource>/", views.FieldPolicyEditView.as_view(), name="fields-edit"),
    path("users/", views.UserListView.as_view(), name="users"),
    path("users/new/", views.UserEditView.as_view(), name="user-create"),
    path("users/<int:pk>/", views.UserEditView.as_view(), name="user-edit"),
    path("teams/", views.TeamListView.as_view(), name="teams"),
    path("teams/new/", views.TeamEditView.as_view(), name="team-create"),
    path("teams/<int:pk>/", views.TeamEditView.as_view(), name="team-edit"),
    path("roles/", views.RoleListView.as_view(), name="roles"),
    path("tokens/", views.TokenListView.as_view(), name="tokens"),
    path("tokens/new/", views.TokenCreateView.as_view(), name="token-create"),
    path("tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("tier-policy/", views.ScoringPolicyView.as_view(), name="tier-policy"),
    path("risk-rules/", views.RiskRuleListView.as_view(), name="risk-rules"),
    path("risk-rules/new/<slug:kind>/", views.RiskRuleEditView.as_view(), name="risk-rule-create"),
    path("risk-rules/<int:pk>/", views.RiskRuleEditView.as_view(), name="risk-rule-edit"),
    path("risk-settings/", views.RiskSettingsView.as_view(), name="risk-settings"),
    path("audit/", views.AuditLogView.as_view(), name="audit"),
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
]
