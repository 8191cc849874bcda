from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api import PairView
from accounts.lockout import LockoutAdminAuthenticationForm, LockoutAuthenticationForm
from accounts.views import PasswordChangeView
from config.home import home
from config.leaflet_icons import leaflet_icons
from config.observability import healthz, readyz
from hazards.photo_files import evidence_file
from hazards.urls import api_urlpatterns as hazard_api
from hazards.urls import (
    campaign_urlpatterns,
    import_urlpatterns,
    job_urlpatterns,
    order_urlpatterns,
    survey_urlpatterns,
)
from mapping.urls import map_urlpatterns, ogc_urlpatterns, tile_urlpatterns

api_v1 = [
    *hazard_api,
    path("pair/", PairView.as_view(), name="pair"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file, as the Content Security Policy requires.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("tiles/", include(tile_urlpatterns)),  # first: the map asks for dozens at each move
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("leaflet-icons.js", leaflet_icons, name="leaflet-icons"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        PasswordChangeView.as_view(),
        name="password-change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_changed.html"),
        name="password-changed",
    ),
    # The admin's own password change asks the current password too, unthrottled: the one
    # page that counts it under the sign-in lockout serves both.
    path("admin/password_change/", RedirectView.as_view(pattern_name="password-change")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("survey/", include(survey_urlpatterns)),
    path("reports/", include("reports.urls")),
    path("ogc/", include(ogc_urlpatterns)),
    path("map/", include(map_urlpatterns)),
    path("imports/", include(import_urlpatterns)),
    # Photos and thumbnails, through the area scope (MEDIA_URL; never a static route).
    path(f"{settings.MEDIA_URL.strip('/')}/<path:name>", evidence_file, name="evidence-file"),
    path("jobs/", include(job_urlpatterns)),
    path("orders/", include(order_urlpatterns)),
    path("campaigns/", include(campaign_urlpatterns)),
]

admin.site.login_form = LockoutAdminAuthenticationForm
admin.site.site_header = _("Drowning hazard registry")
admin.site.site_title = _("Hazard registry")
admin.site.index_title = _("Registry administration")

# Errors Django answers itself, in the one shape (config/errors.py).
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
