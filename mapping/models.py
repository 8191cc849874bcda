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

    def is_within(self, other: "Area") -> bool:
        return self.path.startswith(other.path)


class AreaPiece(models.Model):
    """An area's boundary cut into small pieces (ST_Subdivide) so that finding the area
    that holds a point touches a few small polygons instead of one huge one."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="pieces")
    depth = models.PositiveSmallIntegerField()
    geom = models.PolygonField(srid=4326)

    class Meta:
        verbose_name = _("area piece")
        verbose_name_plural = _("area pieces")


class SiteCell(models.Model):
    """The low-zoom map pyramid: sites counted per grid cell, province, kind and state,
    kept current by triggers on hazards_site (migration 0003). A cell of level L is a web
    mercator tile of zoom L; a tile of zoom z is drawn from the cells of level
    z + CELL_LEVELS_BELOW, so it never carries more than 64 features. `area` is the
    site's top-level area (its province), so the pyramid answers for whole provinces."""

    level = models.PositiveSmallIntegerField()
    cx = models.IntegerField()
    cy = models.IntegerField()
    # No key check nor index of its own: cells are derived from the sites, whose area is
    # checked, and tiles reach cells through sitecell_key. Both cost an import ~10 µs a site.
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    kind = models.CharField(max_length=20)
    signage = models.CharField(max_length=10)
    barrier = models.CharField(max_length=10)
    closed = models.BooleanField()
    n = models.IntegerField()
    # Sums of the sites' web mercator coordinates: the cluster is drawn at their centroid.
    sum_x = models.FloatField()
    sum_y = models.FloatField()

    class Meta:
        verbose_name = _("map grid cell")
        verbose_name_plural = _("map grid cells")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "cx", "cy", "area", "kind", "signage", "barrier", "closed"], name="sitecell_key"
            )
        ]


class Place(models.Model):
    """A school or kindergarten: sites near one rank higher on the priority list."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("School")
        KINDERGARTEN = "kindergarten", _("Kindergarten")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    location = models.PointField(_("location"), srid=4326)

    class Meta:
        verbose_name = _("school or kindergarten")
        verbose_name_plural = _("schools and kindergartens")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
