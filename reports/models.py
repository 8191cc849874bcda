from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Indicator(models.TextChoices):
    SIGNED = "signed", _("Signed")
    FENCED = "fenced", _("Fenced")
    PROTECTED = "protected", _("Protected")


class Target(models.Model):
    """The share of counting sites an area must reach by a deadline. It applies to the
    area and every area below it that sets none of its own; without any, the directive's
    100 % applies."""

    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="targets", verbose_name=_("area"))
    indicator = models.CharField(_("indicator"), max_length=10, choices=Indicator.choices)
    value = models.DecimalField(
        _("target (%)"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    deadline = models.DateField(_("deadline"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [models.UniqueConstraint(fields=["area", "indicator"], name="target_once_per_indicator")]

    def __str__(self) -> str:
        return f"{self.area} · {self.get_indicator_display()} {self.value}% · {self.deadline}"


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
