"""The admin's map of a geometry field, for every app's admin: a map to draw on for who
may change the record, the same map without its drawing tools for who may only view it
(Django's admin showed a geometry it may not change as its EWKT, "SRID=4326;MULTIPOLYGON
(((106.06…", to a province's manager: walkthrough)."""

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.gdal import GDALException
from django.templatetags.static import static
from django.utils.html import format_html, json_script
from leaflet.admin import LeafletAdminWidget, LeafletGeoAdminMixin


class MapWidget(LeafletAdminWidget):
    """Drawing a form again with its error, Django's widget reads the value sent as a
    geometry and catches GEOS's errors, not GDAL's, which JSON that is no geometry
    ('{"a": 1}') raises: a 500 instead of the field's error (pentest 6). Such a value draws
    an empty map, as any other unreadable one does."""

    def deserialize(self, value):
        try:
            return super().deserialize(value)
        except GDALException:
            return None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["with_forms"] = self.modifiable  # the drawing tools' words, for render()
        return context

    def render(self, name, value, attrs=None, renderer=None):
        """django-leaflet sets the drawing tools' words, in the page's language, from
        elements that its i18n script reads when it loads; the admin loads that script in
        the page's head, before any widget has written them, so the buttons kept
        Leaflet.draw's English ("Draw a marker"). The script runs again after them."""
        html = super().render(name, value, attrs, renderer)
        if not self.modifiable:
            return html
        words = static("leaflet/draw/leaflet.draw.i18n.js")
        return html + format_html('{}<script src="{}"></script>', json_script(True, "with-forms"), words)


class MapAdminMixin(LeafletGeoAdminMixin):
    widget = MapWidget

    @property
    def media(self):
        # A page the person may only view has no form field to bring the map's scripts.
        return super().media + self.widget().media

    def get_fields(self, request, obj=None):
        """On a page the person may only view, each geometry is a map without the drawing
        tools; the admin would write it as text (its EWKT)."""
        fields = super().get_fields(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fields
        geometries = {f.name: f for f in self.model._meta.get_fields() if isinstance(f, GeometryField)}
        return [self._shown_map(geometries[name], request) if name in geometries else name for name in fields]

    def _shown_map(self, field, request):
        widget = self.formfield_for_dbfield(field, request).widget
        widget.modifiable = False

        def shown(obj):
            return widget.render(field.name, getattr(obj, field.name))

        shown.__name__ = field.name  # the row's class, field-<name>, as an editable map's
        shown.short_description = field.verbose_name
        return shown
