from django.urls import path, re_path
from django.views.i18n import JavaScriptCatalog
from rest_framework.routers import SimpleRouter

from . import export_api, job_pages, lifecycle_api, order_api, order_pages, rest, survey, tablet_api, uploads

router = SimpleRouter()
router.register("sites", rest.SiteViewSet, basename="site")
router.register("inspections", rest.InspectionViewSet, basename="inspection")
router.register("areas", rest.AreaViewSet, basename="area")
router.register("orders", order_api.OrderViewSet, basename="order")
router.register("campaigns", order_api.CampaignViewSet, basename="campaign")

api_urlpatterns = [
    path("sync/sites/", tablet_api.SyncSiteView.as_view(), name="sync-site"),
    path("sync/inspections/", tablet_api.SyncInspectionView.as_view(), name="sync-inspection"),
    path("sync/batch/", tablet_api.SyncBatchView.as_view(), name="sync-batch"),
    path("sync/photos/<uuid:photo_id>/", tablet_api.PhotoUploadView.as_view(), name="sync-photo"),
    path("sync/closures/", lifecycle_api.SyncClosureView.as_view(), name="sync-closure"),
    path("sites/<uuid:pk>/close/", lifecycle_api.SiteCloseView.as_view(), name="site-close"),
    path("sites/<uuid:pk>/reopen/", lifecycle_api.SiteReopenView.as_view(), name="site-reopen"),
    path("sites/<uuid:pk>/merge/", lifecycle_api.SiteMergeView.as_view(), name="site-merge"),
    path("closure-proposals/", lifecycle_api.ClosureProposalListView.as_view(), name="closure-proposal-list"),
    path("closure-proposals/<uuid:pk>/confirm/", lifecycle_api.ClosureConfirmView.as_view(), name="closure-confirm"),
    path("closure-proposals/<uuid:pk>/decline/", lifecycle_api.ClosureDeclineView.as_view(), name="closure-decline"),
    path("survey/me/", tablet_api.SurveyMeView.as_view(), name="survey-me"),
    path("survey/areas/", tablet_api.SurveyAreasView.as_view(), name="survey-areas"),
    path("survey/sites/", tablet_api.SurveySitesView.as_view(), name="survey-sites"),
    path("survey/sites/rest/", tablet_api.SurveySitesRestView.as_view(), name="survey-sites-rest"),
    path("survey/proposals/", tablet_api.SurveyProposalsView.as_view(), name="survey-proposals"),
    re_path(
        r"^exports/sites\.(?P<fmt>geojson|csv|xlsx|gpkg|shp|kml)$",
        export_api.SiteExportView.as_view(),
        name="site-export",
    ),
    path("jobs/<uuid:run_id>/", job_pages.JobRunView.as_view(), name="api-job"),
    path("jobs/<uuid:run_id>/file", job_pages.JobFileView.as_view(), name="job-file"),
    *router.urls,
]

survey_urlpatterns = [
    path("", survey.app, name="survey"),
    path("sw.js", survey.service_worker, name="survey-sw"),
    path("manifest.webmanifest", survey.manifest, name="survey-manifest"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["hazards"]), name="survey-jsi18n"),
]

import_urlpatterns = [
    path("", uploads.upload, name="import-upload"),
    path("runs/<uuid:run_id>/", uploads.run_page, name="import-run"),
    path("boundaries/", uploads.boundaries, name="load-boundaries"),
    path("<str:upload_id>/", uploads.preview, name="import-preview"),
]

job_urlpatterns = [path("<uuid:run_id>/", job_pages.run_page, name="job-page")]

order_urlpatterns = [
    path("", order_pages.order_list, name="order-list"),
    path("new/", order_pages.order_new, name="order-new"),
    path("<uuid:pk>/", order_pages.order_detail, name="order-detail"),
    path("<uuid:pk>/change/", order_pages.order_edit, name="order-edit"),
    path("<uuid:pk>/<str:action>/", order_pages.order_action, name="order-action"),
]

campaign_urlpatterns = [
    path("", order_pages.campaign_list, name="campaign-list"),
    path("<int:pk>/", order_pages.campaign_board_page, name="campaign-board"),
    path("<int:pk>/edit/", order_pages.campaign_edit, name="campaign-edit"),
    re_path(r"^(?P<pk>\d+)/board\.(?P<fmt>xlsx|pdf)$", order_pages.campaign_file, name="campaign-file"),
]
