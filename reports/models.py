from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hazards.rules import SiteState

from .numbers import format_percent
from .periods import Period


class Indicator(models.TextChoices):
    SIGNED = "signed", _("Signed")
    FENCED = "fenced", _("Fenced")
    PROTECTED = "protected", _("Protected")


class DateRange(models.Func):
    function = "DATERANGE"
    output_field = DateRangeField()


class Target(models.Model):
    """The share of counting sites an area must reach by a deadline, in force over days
    [valid_from, valid_until]. It applies to the area and every area below it with none of
    its own in force; without any, the directive's 100 % applies. A target is never edited:
    setting another one from a day ends the one in force the day before (reports/services.py),
    so a past report keeps the target that was in force then."""

    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="targets", verbose_name=_("area"))
    indicator = models.CharField(_("indicator"), max_length=10, choices=Indicator.choices)
    value = models.DecimalField(
        _("target (%)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    deadline = models.DateField(_("deadline"))
    valid_from = models.DateField(_("in force from"))
    valid_until = models.DateField(_("in force until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("set by"),
    )
    created_at = models.DateTimeField(_("set at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["area__path", "indicator", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_from__lte=models.F("valid_until")), name="target_window"),
            ExclusionConstraint(
                name="target_one_in_force",
                expressions=[
                    ("area", RangeOperators.EQUAL),
                    ("indicator", RangeOperators.EQUAL),
                    (
                        DateRange("valid_from", "valid_until", RangeBoundary(inclusive_upper=True)),
                        RangeOperators.OVERLAPS,
                    ),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} · {self.get_indicator_display()} {format_percent(self.value)} · {self.deadline:%d/%m/%Y}"


class AreaDay(models.Model):
    """Current-state summary kept by a trigger on sites: for an area (and, through its
    descendants' rows being added to it too, its whole subtree), the counting sites whose
    last check fell on `day`, and how many of them are signed, fenced, protected and backed
    by a photo. The current report sums a few of these rows instead of scanning sites."""

    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+")
    is_temporary = models.BooleanField()
    day = models.DateField()  # 0001-01-01 stands for "never checked"
    counting = models.IntegerField(default=0)
    signed = models.IntegerField(default=0)
    fenced = models.IntegerField(default=0)
    protected = models.IntegerField(default=0)
    with_photo = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["area", "is_temporary", "day"], name="areaday_key")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.day} {self.counting}"


class AsOfResult(models.Model):
    """A computed as-of table for one area and date, reused until data it depends on
    change (an inspection counted on or before the date, or a site's lifecycle)."""

    area = models.ForeignKey("areas.Area", null=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    since = models.DateField()
    rows = models.JSONField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        # area NULL: the whole country.
        constraints = [models.UniqueConstraint(fields=["area", "day", "since"], name="asof_key", nulls_distinct=False)]

    def __str__(self) -> str:
        return f"{self.area_id} {self.since}..{self.day}"


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted, waiting for approval")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned for correction")


class ReportSubmission(models.Model):
    """An area's report for a period as a manager submitted it: its numbers and the sites
    behind them frozen (SubmittedSite), with a number, the date and who submitted it; a
    manager of an area above approves or returns it. Recomputing the period later is
    compared with it, never written over it (reports/submissions.py)."""

    area = models.ForeignKey(
        "areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )  # None: the whole country
    period_kind = models.CharField(max_length=10)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    number = models.PositiveIntegerField(_("number"))
    symbol = models.CharField(_("symbol"), max_length=30)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    # The same moment by the database's clock, the one the audit trail writes: records
    # since the submission are read by it (reports/submissions.py).
    recorded_at = models.DateTimeField(_("recorded at"), db_default=Now(), editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("submitted by")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("note on the decision"), blank=True)
    # The numbers as submitted: per child area (code, "" for sites directly in the area),
    # the counts and the targets in force; and the counts per kind of site.
    numbers = models.JSONField(_("numbers"))
    # What the document says besides the numbers (reports/documents.py).
    issuing_body = models.CharField(_("issuing body"), max_length=200)
    parent_body = models.CharField(_("body above it"), max_length=200, blank=True)
    place = models.CharField(_("place"), max_length=100)
    signer_capacity = models.CharField(_("signs as"), max_length=100, blank=True)
    signer_title = models.CharField(_("signer's title"), max_length=100)
    signer_name = models.CharField(_("signer's name"), max_length=100)
    recipients = models.TextField(_("recipients"), blank=True)
    narrative = models.TextField(_("assessment and proposals"), blank=True)

    class Meta:
        verbose_name = _("submitted report")
        verbose_name_plural = _("submitted reports")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["area", "period_start", "period_end"], name="submission_area_period")]
        constraints = [
            # One report in force per area and period: a returned one may be submitted again.
            models.UniqueConstraint(
                fields=["area", "period_start", "period_end"],
                condition=~models.Q(status="returned"),
                name="submission_once_per_period",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}/{self.symbol}"

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.period_end, self.period_kind)


class SubmittedSite(models.Model):
    """One site counted in a submitted report, with its state as of the period's end as
    it was submitted: every list behind a number of the report is a filter of these."""

    pk = models.CompositePrimaryKey("submission_id", "site_id")
    submission = models.ForeignKey(ReportSubmission, on_delete=models.CASCADE, related_name="sites", db_index=False)
    # The site's id, not a key: the frozen list keeps a site that is deleted or merged later.
    site_id = models.UUIDField()
    child_code = models.CharField(max_length=20)
    kind = models.CharField(max_length=20)
    signage = models.CharField(max_length=10, blank=True)
    barrier = models.CharField(max_length=10, blank=True)
    # registry_site_state of the sign and barrier as it stood at the submission.
    state = models.CharField(max_length=12, choices=SiteState.choices)
    observed_at = models.DateTimeField(null=True)
    inspected = models.BooleanField()
    with_photo = models.BooleanField()
    unverified = models.BooleanField()

    def __str__(self) -> str:
        return f"{self.submission_id} {self.site_id}"
