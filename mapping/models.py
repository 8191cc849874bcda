from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _


class GridCell(models.Model):
    """A cell of the low-zoom map pyramid, kept current by triggers on hazards_site
    (mapping/sql/site_cells.sql). A cell of level L is a web mercator tile of zoom L; a
    tile of zoom z is drawn from the cells of level z + CELL_LEVELS_BELOW, so it never
    carries more than 64 features. `area` is the sites' top-level area (their province),
    so the pyramid answers for whole provinces."""

    level = models.PositiveSmallIntegerField()
    cx = models.IntegerField()
    cy = models.IntegerField()
    # No key check nor index of its own: cells are derived from the sites, whose area is
    # checked, and tiles reach cells through the table's key. Both slowed imports (bench/NOTES.md).
    area = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    n = models.IntegerField()
    # Sums of the sites' web mercator coordinates: the cluster is drawn at their centroid.
    sum_x = models.FloatField()
    sum_y = models.FloatField()

    class Meta:
        abstract = True


class SiteCell(GridCell):
    """Sites counted per cell, province, kind, signage, barrier and closure: what a tile
    with a kind, signage or barrier filter reads."""

    kind = models.CharField(max_length=20)
    signage = models.CharField(max_length=10)
    barrier = models.CharField(max_length=10)
    closed = models.BooleanField()

    class Meta:
        verbose_name = _("map grid cell")
        verbose_name_plural = _("map grid cells")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "cx", "cy", "area", "kind", "signage", "barrier", "closed"], name="sitecell_key"
            )
        ]


class SiteStateCell(GridCell):
    """The same cells of levels 3 to 11 counted by state alone: what every other tile of
    zoom 0 to 8 reads. A cell holds one row per province and state, not one per kind,
    sign and barrier too, so the busiest national tile sums hundreds of rows instead of
    thousands (bench/NOTES.md). Kept in the same statement as SiteCell; `state` is
    registry_site_state of the sites' sign, barrier and closure, the state every list
    and report counts."""

    state = models.CharField(max_length=12)

    class Meta:
        verbose_name = _("map grid cell by state")
        verbose_name_plural = _("map grid cells by state")
        constraints = [models.UniqueConstraint(fields=["level", "cx", "cy", "area", "state"], name="sitestatecell_key")]


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


class TileGrant(models.Model):
    """A signed-in session's right to ask tiles with the map's token instead of the
    session (mapping/tile_tokens.py). Each tile's query checks in the same statement that
    it and its session are still there and that its person's standing is still the one it
    was made under, with that of who may know their password (`standing`, TileStanding):
    deactivation, a password or role change, a change of a password setter's standing or
    a move in the area tree change that; sign-out and idle expiry end its session. Either
    ends the map's tiles at once."""

    key = models.CharField(primary_key=True, max_length=43)
    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    # Who besides its person may know their password (accounts.scope.knowers_of_password)
    # and the sum of the TileStanding.version of the area tree, its person and them.
    knowers = ArrayField(models.BigIntegerField(), default=list)
    standing = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)


class TileStanding(models.Model):
    """How many times what a map's token stands for has changed, per person (user 0: the
    area tree), counted by triggers on the accounts and the areas, whatever writes the
    change (mapping/sql/tile_grants.sql). A count, not a lock: a change at any isolation
    level shows at its commit, and no map waits for one. Counts only grow (a trigger
    refuses less, or a row deleted), so a grant's sum changes with any of them."""

    user_id = models.BigIntegerField(primary_key=True)  # no key: 0 is the tree, a person may go
    version = models.BigIntegerField()
