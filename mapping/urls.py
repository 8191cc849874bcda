from django.urls import path

from . import views
from .ogc import views as ogc

ogc_urlpatterns = [
    path("", ogc.landing, name="ogc-landing"),
    path("conformance", ogc.conformance, name="ogc-conformance"),
    path("api", ogc.api, name="ogc-api"),
    path("collections", ogc.collections, name="ogc-collections"),
    path("collections/<str:collection_id>", ogc.collection, name="ogc-collection"),
    path("collections/<str:collection_id>/items", ogc.items, name="ogc-items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", ogc.item, name="ogc-item"),
    path("collections/<str:collection_id>/queryables", ogc.queryables, name="ogc-queryables"),
    path("collections/<str:collection_id>/schema", ogc.schema, name="ogc-schema"),
    path("collections/<str:collection_id>/style.qml", ogc.style, name="ogc-qml"),
]

map_urlpatterns = [
    path("", views.map_page, name="map"),
    path("sites.json", views.sites_in_view, name="map-sites"),
    path("areas.json", views.area_layer, name="map-areas"),
    path("sites/<uuid:pk>/", views.site_panel, name="map-site-panel"),
    path("priority.json", views.priority_list, name="map-priority"),
    path("priority.csv", views.priority_file, name="map-priority-file"),
    path("tile-token.json", views.tile_token, name="map-tile-token"),
]

tile_urlpatterns = [
    path("sites/<int:z>/<int:x>/<int:y>.pbf", views.site_tile, name="site-tile"),
    path("sites.json", views.site_tilejson, name="site-tilejson"),
    path("sites-style.json", views.site_tile_style, name="site-tile-style"),
]
