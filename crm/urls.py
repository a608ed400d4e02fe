"""Top-level URLs: sign-in, the admin console, the REST API with its schema and docs,
the Django admin site and the health check."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from crm.accounts import views as accounts_views
from crm.core.views import export_page_view, healthz

urlpatterns = [
    path("", include("workspace.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("tiers/", include("tiers.urls")),
    path("service/", include("feedback.urls")),
    path("alerts/", include("risk.urls")),
    path("imports/", include("imports.urls")),
    path("duplicates/", include("duplicates.urls")),
    path("notifications/", accounts_views.notifications_view, name="notifications"),
    path("notifications/read/", accounts_views.notifications_read_view, name="notifications-read"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    # The browsable API's own sign-in link leads to the same page.
    path("api-auth/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True)),
    path("api-auth/", include("rest_framework.urls")),
    path("console/", include("crm.console.urls")),
    path("healthz", healthz, name="healthz"),
    path("exports/<int:pk>/", export_page_view, name="export-page"),
    path("api/v1/", include("crm.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file, so the page runs under the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

# Under /api/ a URL that matches no route is a JSON 404 like every other API error.
handler404 = "crm.core.views.not_found"
