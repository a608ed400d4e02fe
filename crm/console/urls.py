"""URLs of the admin console, under ``/console/``: the shell's pages and the apps'."""

from django.urls import path

from . import views
from .pages import app_urlpatterns

app_name = "console"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("fields/", views.FieldPolicyIndexView.as_view(), name="fields"),
    path("fields/<slug:resource>/", views.FieldPolicyEditView.as_view(), name="fields-edit"),
    path("users/", views.UserListView.as_view(), name="users"),
    path("users/new/", views.UserEditView.as_view(), name="user-create"),
    path("users/<int:pk>/", views.UserEditView.as_view(), name="user-edit"),
    path("users/<int:pk>/unlock/", views.UserUnlockView.as_view(), name="user-unlock"),
    path("teams/", views.TeamListView.as_view(), name="teams"),
    path("teams/new/", views.TeamEditView.as_view(), name="team-create"),
    path("teams/<int:pk>/", views.TeamEditView.as_view(), name="team-edit"),
    path("roles/", views.RoleListView.as_view(), name="roles"),
    path("tokens/", views.TokenListView.as_view(), name="tokens"),
    path("tokens/new/", views.TokenCreateView.as_view(), name="token-create"),
    path("tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("audit/", views.AuditLogView.as_view(), name="audit"),
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
    *app_urlpatterns(),
]
