from django.urls import path

from . import ogc

ogc_urlpatterns = [
    path("", ogc.landing, name="ogc-landing"),
    path("conformance", ogc.conformance, name="ogc-conformance"),
    path("collections", ogc.collections, name="ogc-collections"),
    path("collections/<str:collection_id>", ogc.collection, name="ogc-collection"),
    path("collections/<str:collection_id>/items", ogc.items, name="ogc-items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", ogc.item, name="ogc-item"),
]
