from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.report_page, name="report"),
    path("sites/", views.report_sites, name="report-sites"),
    re_path(r"^report\.(?P<fmt>csv|xlsx|pdf)$", views.report_file, name="report-file"),
]
