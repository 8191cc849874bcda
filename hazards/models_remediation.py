"""Closing the gap: remediation orders to a site's owner, and pre-summer campaigns that
send field workers to every site not known to be protected. hazards/models.py imports
these so Django finds them; the services live in orders.py and campaigns.py."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _

from .models import PERSON, Inspection, Site, SoftDeletable


class PartyKind(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    COOPERATIVE = "cooperative", _("Cooperative")
    COMPANY = "company", _("Company")
    PUBLIC_BODY = "public_body", _("Public body")


class Requirement(models.TextChoices):
    SIGN = "sign", _("Warning sign")
    BARRIER = "barrier", _("Barrier")
    COVER = "cover", _("Cover")
    FILL_OR_DRAIN = "fill_or_drain", _("Fill in or drain")
    OTHER = "other", _("Other")


class OrderState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DONE = "done", _("Done (awaiting verification)")
    VERIFIED = "verified", _("Verified")


# An order's life (hazards/orders.py takes its steps and draws them): the owner acknowledges
# an open order and reports done one still waiting for them; an order can be changed until
# an inspection has verified it.
WAITING_FOR_OWNER = (OrderState.OPEN, OrderState.ACKNOWLEDGED)
UNVERIFIED = (*WAITING_FOR_OWNER, OrderState.DONE)


class RemediationOrder(SoftDeletable):
    """What a site's responsible party must put right, by when, and who follows it up.
    Only an inspection verifies it (hazards/orders.py: orders_apply_inspections)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="orders", verbose_name=_("site"))
    party_kind = models.CharField(_("kind of responsible party"), max_length=20, choices=PartyKind.choices)
    party_name = models.CharField(_("responsible party"), max_length=200)
    party_phone = models.CharField(_("phone"), max_length=30, blank=True)
    party_address = models.CharField(_("address"), max_length=300, blank=True)
    requirements = ArrayField(
        models.CharField(max_length=20, choices=Requirement.choices), verbose_name=_("required"), size=5
    )
    details = models.TextField(_("details"), blank=True)
    deadline = models.DateField(_("deadline"))
    follow_up = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("followed up by"))
    state = models.CharField(_("state"), max_length=20, choices=OrderState.choices, default=OrderState.OPEN)
    opened_at = models.DateTimeField(_("opened at"), editable=False)
    opened_by = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("opened by"), editable=False)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("reported done at"), null=True, blank=True, editable=False)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)
    # The inspection that last decided the order: the one that verified it, or that found
    # the requirement still unmet and reopened it.
    decided_by = models.ForeignKey(
        Inspection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by inspection"),
        editable=False,
        db_index=False,
    )
    reopened_count = models.PositiveIntegerField(_("times reopened"), default=0, editable=False)
    # The notice to the owner: its number (per issuing commune and year, so not unique
    # here) and date are kept once issued.
    notice_number = models.CharField(_("notice number"), max_length=40, blank=True, editable=False)
    notice_date = models.DateField(_("notice date"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(SoftDeletable.Meta):
        verbose_name = _("remediation order")
        verbose_name_plural = _("remediation orders")
        ordering = ["deadline", "opened_at"]
        indexes = [
            models.Index(fields=["site", "state"], name="order_site_state"),
            models.Index(fields=["state", "deadline"], name="order_state_deadline"),
            models.Index(fields=["follow_up", "state"], name="order_follow_up"),
        ]
        constraints = [
            # One order at a time per site: a second would split the follow-up.
            models.UniqueConstraint(
                fields=["site"],
                name="order_one_unverified_per_site",
                condition=models.Q(deleted_at__isnull=True, state__in=UNVERIFIED),
            ),
            # A state holds the time it was reached: later inspections are judged against it.
            *(
                models.CheckConstraint(
                    condition=~models.Q(state=state) | models.Q(**{f"{stamp}__isnull": False}),
                    name=f"order_{state}_has_its_time",
                )
                for state, stamp in (
                    (OrderState.ACKNOWLEDGED, "acknowledged_at"),
                    (OrderState.DONE, "done_at"),
                    (OrderState.VERIFIED, "verified_at"),
                )
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site.code} · {self.get_state_display()} · {self.deadline:%d/%m/%Y}"

    # The steps its state allows: hazards/orders.py refuses the others, the order's page
    # offers these.
    @property
    def may_acknowledge(self) -> bool:
        return self.state == OrderState.OPEN

    @property
    def may_report_done(self) -> bool:
        return self.state in WAITING_FOR_OWNER

    @property
    def may_change(self) -> bool:
        return self.state in UNVERIFIED

    @property
    def may_issue_notice(self) -> bool:
        """The notice gets its number once; issuing it again shows the same."""
        return not self.notice_number

    def requirement_labels(self) -> list[str]:
        labels = dict(Requirement.choices)
        return [str(labels.get(r, r)) for r in self.requirements]


class OrderReminder(models.Model):
    """A reminder sent, so each is sent exactly once per order, kind and deadline."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("Deadline approaching")
        AFTER = "after", _("Deadline passed")

    order = models.ForeignKey(RemediationOrder, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    deadline = models.DateField()
    sent_at = models.DateTimeField()
    recipients = ArrayField(models.CharField(max_length=254), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "kind", "deadline"], name="order_reminder_once"),
        ]


class DigestSent(models.Model):
    """A manager's daily digest, sent once per day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    day = models.DateField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="order_digest_once")]


class Campaign(SoftDeletable):
    """A push to check every site of an area that is unverified or not protected within
    a date window (before summer). Its assignments are made once, in SQL, at its start."""

    name = models.CharField(_("name"), max_length=200)
    # None: the whole country (national administrators only).
    area = models.ForeignKey(
        "areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    created_by = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("started by"), editable=False)
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)

    class Meta(SoftDeletable.Meta):
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="campaign_window"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def area_label(self) -> str:
        return self.area.name if self.area else str(_("Whole country"))


class CampaignAssignment(models.Model):
    """One site of a campaign, the field worker sent to it (editable) and its state when
    the campaign started, against which the board counts progress."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    # The site's area when the campaign started: the board's commune (db key checks cost
    # seconds on a national start).
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", db_constraint=False)
    worker = models.ForeignKey(**PERSON, related_name="+", verbose_name=_("field worker"))
    protected_at_start = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "site"], name="campaign_site_once"),
        ]
        indexes = [
            models.Index(fields=["campaign", "area"], name="campaign_assignment_area"),
            models.Index(fields=["worker", "campaign"], name="campaign_assignment_worker"),
            models.Index(fields=["site"], name="campaign_assignment_site"),
        ]
