from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """One node of the administrative tree (province, district, commune, village)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")
        COMMUNE = "commune", _("Commune")
        VILLAGE = "village", _("Village")

    # Official codes keep their leading zeros ("01", "001", "00001"): never an integer.
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    unit_type = models.CharField(_("unit type"), max_length=60, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # "/<root code>/.../<own code>/": a subtree is one prefix match, which the
    # area-scope check and the report roll-ups rely on.
    path = models.CharField(_("path"), max_length=255, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    geom = models.MultiPolygonField(_("boundary"), srid=4326)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="area_path_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class AreaPiece(models.Model):
    """An area's boundary cut into small pieces (ST_Subdivide) so that finding the area
    that holds a point touches a few small polygons instead of one huge one."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="pieces")
    depth = models.PositiveSmallIntegerField()
    geom = models.PolygonField(srid=4326)

    class Meta:
        verbose_name = _("area piece")
        verbose_name_plural = _("area pieces")
