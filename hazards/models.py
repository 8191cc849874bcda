import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .rules import SiteState, StateOf


class SiteKind(models.TextChoices):
    POND = "pond", _("Pond")
    LAKE = "lake", _("Lake or reservoir")
    DAM = "dam", _("Dam")
    CANAL = "canal", _("Canal or ditch")
    WELL = "well", _("Well")
    PIT = "pit", _("Pit (construction or quarry)")
    RIVER_LANDING = "river_landing", _("River landing or bathing spot")
    IRRIGATION_WORKS = "irrigation_works", _("Irrigation works under construction")
    OTHER = "other", _("Other")


class Signage(models.TextChoices):
    NONE = "none", _("No sign")
    DAMAGED = "damaged", _("Sign damaged")
    IN_PLACE = "in_place", _("Sign in place")


class Barrier(models.TextChoices):
    NONE = "none", _("No barrier")
    PARTIAL = "partial", _("Partial barrier")
    COMPLETE = "complete", _("Complete barrier")


class CloseReason(models.TextChoices):
    FILLED_IN = "filled_in", _("Filled in")
    DRAINED = "drained", _("Drained")
    FENCED_OFF = "fenced_off", _("Fenced off permanently")
    DUPLICATE = "duplicate", _("Duplicate of another site")
    NOT_A_HAZARD = "not_a_hazard", _("Not a hazard")
    # Stored before the reasons above existed; still offered for works under construction.
    WORKS_FINISHED = "works_finished", _("Works finished")


class LiveManager(models.Manager):
    """Hides soft-deleted records: every ordinary query, scope filter and report sees only
    live ones. `all_objects` sees deleted ones too (restoring, refusing resurrection)."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


# References to people are not database keys: people are never deleted (accounts are
# deactivated, accounts/admin.py), so a key guards nothing, and its check slowed every
# row written (bench/NOTES.md). Django keeps on_delete.
PERSON = {"to": settings.AUTH_USER_MODEL, "null": True, "on_delete": models.SET_NULL, "db_constraint": False}


class SoftDeletable(models.Model):
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, editable=False)
    # Indexed only where set (partial indexes in each model's Meta): nearly every row has none.
    deleted_by = models.ForeignKey(
        **PERSON, blank=True, related_name="+", editable=False, db_index=False, verbose_name=_("deleted by")
    )

    objects = LiveManager()
    all_objects = models.Manager()

    class Meta:
        abstract = True


class Site(SoftDeletable):
    """A place with (possibly) deep water. Its area and current state are derived:
    the area from the location, the state from the latest inspection."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Unique by a constraint (site_code_unique), not unique=True: that adds a second,
    # pattern-matching index that no query uses and every insert keeps up.
    code = models.CharField(_("code"), max_length=20, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=SiteKind.choices)
    name = models.CharField(_("name"), max_length=200)
    location = models.PointField(_("location"), srid=4326)
    # Not indexed: sites are found by their location; the outline is only drawn.
    outline = models.PolygonField(_("outline"), srid=4326, null=True, blank=True, spatial_index=False)
    # No index of its own: site_area_kind (area, kind) serves every lookup by area.
    area = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="sites",
        verbose_name=_("area"),
        editable=False,
        db_index=False,
    )
    deep_water = models.BooleanField(_("deep water"), default=True)
    depth_m = models.DecimalField(_("depth (m)"), max_digits=5, decimal_places=2, null=True, blank=True)
    responsible_party = models.CharField(_("responsible party"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_temporary = models.BooleanField(_("temporary"), default=False)
    expected_end = models.DateField(_("expected end"), null=True, blank=True)
    # The first day the site counts: its first observation (hazards/lifecycle.py).
    active_from = models.DateField(_("active from"))
    # The day the current area, deep-water flag and temporary flag took effect; empty when
    # they have held since active_from. Earlier details are SiteVersion rows.
    current_since = models.DateField(_("current details since"), null=True, blank=True, editable=False)
    closed_at = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=20, choices=CloseReason.choices, blank=True)
    # A database default too: bulk inserts (imports, benchmarks) name only the columns they fill.
    close_note = models.TextField(_("closing note"), blank=True, default="", db_default="")
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("duplicate of"),
        db_index=False,
    )
    # Copied from the latest inspection by the services so maps and lists need no join.
    signage = models.CharField(_("signage"), max_length=10, choices=Signage.choices, default=Signage.NONE)
    barrier = models.CharField(_("barrier"), max_length=10, choices=Barrier.choices, default=Barrier.NONE)
    # Derived by the database from the three columns it depends on (hazards/rules.py).
    state = models.GeneratedField(
        expression=StateOf(),
        output_field=models.CharField(_("state"), max_length=12, choices=SiteState.choices),
        db_persist=True,
    )
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True, editable=False)
    # Whether the latest inspection carries a photo: evidence behind the current state.
    photo_evidence = models.BooleanField(_("photo evidence"), default=False, editable=False)
    # Not indexed: no query looks sites up by who registered them.
    created_by = models.ForeignKey(
        **PERSON, related_name="+", editable=False, db_index=False, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Hash of the record as a tablet first sent it: a replay matches it, a clash does not.
    client_fingerprint = models.CharField(_("fingerprint as sent"), max_length=64, blank=True, editable=False)
    # A site that came from a file names the import's one audit entry and its row there.
    # No database key: entries are never deleted, the import writes the entry in the same
    # transaction, and a key's check slowed every imported row (bench/NOTES.md).
    import_entry = models.ForeignKey(
        "accounts.AuditEntry",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        editable=False,
        db_constraint=False,
        verbose_name=_("import"),
        db_index=False,
    )
    import_row = models.PositiveIntegerField(_("row in the imported file"), null=True, blank=True, editable=False)

    class Meta(SoftDeletable.Meta):
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]
        indexes = [
            # INCLUDE: a scope's or area's filter (area path → its sites) joined to a few
            # rows elsewhere (orders, assignments) reads the index alone, not every site's
            # row in the area (bench/NOTES.md).
            models.Index(fields=["area", "kind"], name="site_area_kind", include=["id", "deleted_at", "closed_at"]),
            models.Index(fields=["deleted_by"], name="site_deleted_by", condition=models.Q(deleted_by__isnull=False)),
            models.Index(
                fields=["duplicate_of"], name="site_duplicate_of", condition=models.Q(duplicate_of__isnull=False)
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="site_code_unique"),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True, close_reason="")
                | (models.Q(closed_at__isnull=False) & ~models.Q(close_reason="")),
                name="site_closed_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(close_reason="duplicate") | models.Q(duplicate_of__isnull=False),
                name="site_duplicate_names_original",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def is_protected(self) -> bool:
        return self.state == SiteState.PROTECTED


class SiteVersion(models.Model):
    """The details that decide whether and where a site counts (area, deep water,
    temporary), as they were over days [valid_from, valid_until) before a dated change
    or a reopening. A report as of a day in that range reads these instead of the site's
    current details; days between versions with none are days the site was closed."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="versions", verbose_name=_("site"))
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until (exclusive)"))
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"), db_index=False
    )
    deep_water = models.BooleanField(_("deep water"))
    is_temporary = models.BooleanField(_("temporary"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(**PERSON, related_name="+", editable=False, db_index=False)

    class Meta:
        verbose_name = _("earlier site details")
        verbose_name_plural = _("earlier site details")
        ordering = ["site", "valid_from"]
        indexes = [models.Index(fields=["site", "valid_from"], name="siteversion_site_from")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_from__lt=models.F("valid_until")), name="siteversion_nonempty"
            )
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.valid_from}..{self.valid_until}"


class LiveInspectionManager(LiveManager):
    """An inspection of a deleted site is as gone as the site (until it is restored)."""

    def get_queryset(self):
        return super().get_queryset().filter(site__deleted_at__isnull=True)


class Inspection(SoftDeletable):
    """One visit to a site. Append-only: a correction is a new inspection."""

    objects = LiveInspectionManager()
    all_objects = models.Manager()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("site"))
    inspected_at = models.DateTimeField(_("inspected at (device)"))
    received_at = models.DateTimeField(_("received at (server)"), default=timezone.now, editable=False)
    # The time the registry orders by: the device time, unless the device clock was
    # found far off, then the server's receive time.
    observed_at = models.DateTimeField(_("counted as of"), editable=False)
    clock_suspect = models.BooleanField(_("device clock suspect"), default=False, editable=False)
    inspector = models.ForeignKey(**PERSON, related_name="inspections", verbose_name=_("inspector"))
    signage = models.CharField(_("signage"), max_length=10, choices=Signage.choices)
    barrier = models.CharField(_("barrier"), max_length=10, choices=Barrier.choices)
    water_present = models.BooleanField(_("water present"), default=True)
    water_depth_m = models.DecimalField(_("water depth (m)"), max_digits=5, decimal_places=2, null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Kept as evidence, never searched by place: no spatial index to keep up on every write.
    gps_fix = models.PointField(_("GPS fix"), srid=4326, null=True, blank=True, spatial_index=False)
    gps_accuracy_m = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)
    client_fingerprint = models.CharField(_("fingerprint as sent"), max_length=64, blank=True, editable=False)

    class Meta(SoftDeletable.Meta):
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-observed_at"]
        indexes = [
            # The latest live inspection of a site on or before a date: reports do this per site.
            models.Index(
                fields=["site", "-observed_at", "-received_at"],
                name="inspection_live_latest",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["deleted_by"], name="inspection_deleted_by", condition=models.Q(deleted_by__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site.code} · {timezone.localtime(self.observed_at):%d/%m/%Y %H:%M}"


def photo_path(instance: "Photo", filename: str) -> str:
    return f"photos/{instance.sha256[:2]}/{instance.sha256}.jpg"


def thumbnail_path(instance: "Photo", filename: str) -> str:
    return f"thumbs/{instance.sha256[:2]}/{instance.sha256}.jpg"


class Photo(models.Model):
    """Evidence photo, stored without EXIF, upright, once per content hash."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="photos", verbose_name=_("inspection")
    )
    image = models.ImageField(_("image"), upload_to=photo_path)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=thumbnail_path)
    sha256 = models.CharField(_("content hash"), max_length=64)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    # Indexed: a submitted report looks for photos added since it was submitted.
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        constraints = [
            models.UniqueConstraint(fields=["inspection", "sha256"], name="photo_once_per_inspection"),
        ]

    def __str__(self) -> str:
        # As a person knows it: the site and the visit it was taken at (its inspection's
        # name); its content hash would mean nothing to them.
        return str(self.inspection)


class RunStatus(models.TextChoices):
    """Where a piece of long work run by the worker stands (imports and other jobs)."""

    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """An import (or a check of every row) of an uploaded file, run as a job by the worker
    (hazards/tasks.py). The page shows its progress and outcome; runs are forgotten after
    JOBS_KEPT_DAYS."""

    Status = RunStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(**PERSON, related_name="+", db_index=False)
    upload_id = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    mapping = models.JSONField(default=dict)
    dry_run = models.BooleanField()
    # Update mode: rows naming a site by its id change it (hazards/import_update.py).
    update = models.BooleanField(default=False)
    # The sheet of a workbook or the layer of a GeoPackage chosen ("" for the only one).
    sheet = models.CharField(max_length=255, blank=True, default="")
    language = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(null=True)
    unchanged = models.PositiveIntegerField(null=True)
    updated = models.PositiveIntegerField(null=True)
    problems = models.JSONField(default=list)
    changes = models.JSONField(default=list)  # update mode: what changed, a line per row
    # The person's own words for choices ({"kind": {"ao nuôi cá": "pond"}}) and what the
    # outcome says besides problems (columns left out, sheets not read).
    words = models.JSONField(default=dict)
    notices = models.JSONField(default=list)
    # The coordinate system a person stated for the file (EPSG code, areas/crs.py).
    system = models.PositiveIntegerField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True)

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class FilePart(models.Model):
    """A part of an uploaded file a job reads, in the database so that a worker on another
    machine can read it (only DATABASE_URL is shared); dropped when its run ends."""

    name = models.CharField(max_length=255)  # a Shapefile is several files
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        abstract = True


class ImportFilePart(FilePart):
    """The file an ImportRun imports."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="parts")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "name", "seq"], name="import_file_part_unique")]


class JobRun(models.Model):
    """Other long work a person asks for (a large export, a national report, a boundary
    reload): a kind registered in hazards/job_kinds.py, run by the worker
    (hazards/tasks.py). Its page shows the progress, then the file to download until
    `expires_at` or what was done (or why it failed).
    Only the person who asked sees it; runs are forgotten after JOBS_KEPT_DAYS."""

    Status = RunStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=100)
    params = models.JSONField(default=dict)
    created_by = models.ForeignKey(**PERSON, related_name="+", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)
    language = models.CharField(max_length=10)
    request_id = models.CharField(max_length=128, blank=True)  # the request that asked, for the logs
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    done = models.BigIntegerField(default=0)  # progress, in units of `total`
    total = models.BigIntegerField(default=0)
    problem = models.TextField(blank=True)  # why it failed, for the person who asked
    summary = models.TextField(blank=True)  # what work without a file did (a boundary reload)
    result = models.CharField(max_length=255, blank=True)  # the file, relative to MEDIA_ROOT
    result_bytes = models.BigIntegerField(null=True)
    # The subtrees its asker read when it ran (Scope.readable_roots): the file is given only
    # while they still read all of them. None: not known, never given.
    made_within = ArrayField(models.CharField(max_length=255), null=True)
    finished_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["created_by", "kind", "created_at"], name="job_run_owner_kind")]

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def file_name(self) -> str:
        return self.result.rsplit("/", 1)[-1]


class JobInput(FilePart):
    """The file a JobRun reads (a boundary file)."""

    run = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="inputs")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "name", "seq"], name="job_input_unique")]


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a manager")
    CONFIRMED = "confirmed", _("Confirmed: the site was closed")
    DECLINED = "declined", _("Declined")


class ClosureProposal(models.Model):
    """A field worker's proposal, made on a tablet, to close a site; a manager of the
    site's area confirms it (the site closes on the day the worker saw it) or declines it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="closure_proposals", verbose_name=_("site"), db_index=False
    )
    reason = models.CharField(_("reason"), max_length=20, choices=CloseReason.choices)
    note = models.TextField(_("note"), blank=True)
    observed_at = models.DateTimeField(_("seen on (device)"))
    received_at = models.DateTimeField(_("received at (server)"), default=timezone.now, editable=False)
    proposed_by = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("proposed by"), db_index=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING, editable=False
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("decided by"), db_index=False)
    decision_note = models.TextField(_("manager's note"), blank=True)
    client_fingerprint = models.CharField(_("fingerprint as sent"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("closure proposal")
        verbose_name_plural = _("closure proposals")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["site", "status"], name="closureproposal_site_status")]

    def __str__(self) -> str:
        return f"{self.site.code} · {self.get_reason_display()}"


class SiteMerge(models.Model):
    """A duplicate merged into the site kept: the inspections moved and what the two
    sites were before, so that an administrator can undo the merge exactly."""

    kept = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("site kept"))
    duplicate = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+", verbose_name=_("duplicate"))
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    merged_by = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("merged by"), db_index=False)
    inspections = ArrayField(models.UUIDField(), verbose_name=_("inspections moved"))
    # The duplicate's remediation orders that followed the inspections (hazards/orders.py).
    orders = ArrayField(models.UUIDField(), default=list, verbose_name=_("remediation orders moved"))
    kept_active_from = models.DateField(_("kept site active from, before the merge"))
    duplicate_closed_at = models.DateField(_("duplicate closed on, before the merge"), null=True, blank=True)
    duplicate_close_reason = models.CharField(
        _("duplicate's closure reason, before the merge"), max_length=20, blank=True
    )
    duplicate_close_note = models.TextField(_("duplicate's closure note, before the merge"), blank=True)
    duplicate_of_before = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("duplicate of, before the merge"),
    )
    reversed_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    reversed_by = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("undone by"), db_index=False)

    class Meta:
        verbose_name = _("site merge")
        verbose_name_plural = _("site merges")
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        # By its moment, not its sites: the duplicate may be of an area the kept site's
        # people may not see (the admin names each site to who may, lifecycle_admin).
        return f"{timezone.localtime(self.merged_at):%d/%m/%Y %H:%M}"


class SurveyListRest(models.Model):
    """The second part of a worker's survey site list as last made with its first part
    (hazards/selectors.py), so that the tablet's request for it, which follows at once,
    reads it instead of making the whole list again. One row per worker, replaced by each
    first part; served only for its version, to the same scope, while fresh."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    version = models.CharField(max_length=32)
    # The subtrees the worker read when it was made (accounts.scope.Scope.readable_roots):
    # a change of the worker's areas in between makes it unusable.
    scope = models.TextField()
    rest = models.BinaryField()
    made_at = models.DateTimeField()


# Orders and campaigns have a module of their own; imported here so Django finds them.
from .models_remediation import (  # noqa: E402, F401
    Campaign,
    CampaignAssignment,
    DigestSent,
    OrderReminder,
    OrderState,
    PartyKind,
    RemediationOrder,
    Requirement,
)
