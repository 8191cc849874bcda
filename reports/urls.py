from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.report_page, name="report"),
    path("areas.json", views.area_search, name="report-areas"),
    path("sites/", views.report_sites, name="report-sites"),
    re_path(r"^report\.(?P<fmt>csv|xlsx|pdf|docx)$", views.report_file, name="report-file"),
    path("submissions/", views.submission_list, name="submission-list"),
    path("submissions/new/", views.submission_new, name="submission-new"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission-detail"),
    path("submissions/<int:pk>/sites/", views.submission_sites, name="submission-sites"),
    path("submissions/<int:pk>/orders/", views.submission_orders, name="submission-orders"),
    path("submissions/<int:pk>/decide/", views.submission_decide, name="submission-decide"),
    re_path(
        r"^submissions/(?P<pk>[0-9]+)/document\.(?P<fmt>pdf|docx)$",
        views.submission_document,
        name="submission-document",
    ),
    # A remediation order's notice to the site's owner (reports/notices.py).
    path("notices/<uuid:pk>.<str:fmt>", views.order_notice, name="order-notice"),
]
