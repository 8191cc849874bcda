import re

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.text import clean_text

# Characters of a user name that read as others in a list (pentest I8: "ADMİN" beside
# "admin"), compared in lower case. Django's validator lets a user name hold letters of
# any script, digits and . @ + - _; this is the part of Unicode's confusables (UTS #39)
# that can make such a name look like a Latin one: the Cyrillic and Greek lower-case
# letters drawn as Latin ones, dotless i, the digits 0 and 1, and "rn" for "m". (The
# whole UTS #39 skeleton, as ICU computes it, would need PyICU built from source against
# libicu, and it compares case-sensitively: "I" and "l" would still pass this way.)
LOOKALIKES = str.maketrans(
    {
        **dict(zip("аеорсухіјѕһԁԛԝӏ", "aeopcyxijshdqwl", strict=True)),  # Cyrillic
        **dict(zip("οανικτυ", "oavikty", strict=True)),  # Greek
        "ı": "i",
        "0": "o",
        "1": "l",
    }
)
# A dot above on i or j, which have one already (Unicode's Soft_Dotted): what "İ" case
# folds to ("i̇"), drawn as a plain i.
DOT_ON_I = re.compile("(?<=[ij])\u0307")


def username_key(username: str) -> str:
    """A user name as sign-in reads it (NFKC, as Django's UsernameField), case folded, and
    each character that reads as another (LOOKALIKES) taken as that one: the key the
    lockout counts failures under (accounts/lockout.py), so no two accounts may share it
    (else unlocking one would unlock the other), nor look alike in a list."""
    folded = AbstractUser.normalize_username(username).casefold()
    return DOT_ON_I.sub("", folded).translate(LOOKALIKES).replace("rn", "m")


def fill_name_keys(model) -> None:
    """Each account's key as User.save() keeps it, for a migration's User (`model`) when
    the rule changes; two accounts sharing one stop it at the key's unique constraint
    (rename one first)."""
    for user in model.objects.only("pk", "username").iterator():
        model.objects.filter(pk=user.pk).update(name_key=username_key(user.username))


class User(AbstractUser):
    """A person who signs in. What they may see comes from their memberships only."""

    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # username_key(username), kept by save(): unique in the database, so no way of writing
    # a person (a form, a command, a shell, two requests at once) gives two accounts one
    # lockout key. Python's case folding, which PostgreSQL's lower() and upper() are not.
    name_key = models.TextField(_("user name as compared"), unique=True, editable=False)
    # Who set the password when another person did (a manager's reset, an account made with
    # one): they know it, so it signs in only while they may manage its holder
    # (scope.password_still_usable). Kept when the holder changes it: whoever knew the old
    # one may be who changed it.
    password_set_by = models.ForeignKey(
        "self", verbose_name=_("password set by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )  # fmt: skip
    # Who else may know it: whoever knew the setter's own password then (they could have
    # been signed in as the setter), and so on up (scope.knowers_of_password; pentest 7).
    password_known_also_by = ArrayField(
        models.BigIntegerField(), verbose_name=_("password known also by"), default=list, blank=True, editable=False
    )

    def save(self, *args, **kwargs):
        self.name_key = username_key(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def clean(self):
        """A person's name is read on pages, PDFs and spreadsheets: no control characters."""
        super().clean()
        problems = {}
        for field in ("first_name", "last_name", "phone"):
            try:
                setattr(self, field, clean_text(getattr(self, field), field, self._meta.get_field(field).verbose_name))
            except ValidationError as exc:
                problems.update(exc.message_dict)
        if problems:
            raise ValidationError(problems)

    def validate_unique(self, exclude=None):
        """Every form that creates or renames a person (the admin's) checks this."""
        super().validate_unique(exclude)
        if exclude and "username" in exclude:
            return
        if User.objects.exclude(pk=self.pk).filter(name_key=username_key(self.username)).exists():
            # Not named: it may be an account the actor does not manage.
            raise ValidationError(
                {
                    "username": _(
                        "Another account already has this name or one that looks the same (other capitals, or "
                        "letters that look alike, such as İ for I or 0 for o); choose another name."
                    )
                }
            )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Role(models.TextChoices):
    FIELD_WORKER = "field_worker", _("Field worker")
    AREA_MANAGER = "area_manager", _("Area manager")
    VIEWER = "viewer", _("Viewer")
    ADMINISTRATOR = "administrator", _("Administrator")


class Membership(models.Model):
    """A user holds a role over one area and everything below it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="memberships", verbose_name=_("area"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "area", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.area}"


class AuditEntry(models.Model):
    """One change to a site, inspection or membership, written by a database trigger so
    that nothing escapes it: forms, services, admin actions and bulk SQL updates alike.
    `changes` maps each changed column to [before, after]."""

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
        db_constraint=False,
    )
    action = models.CharField(_("action"), max_length=10)
    table = models.CharField(_("record type"), max_length=60)
    object_id = models.CharField(_("record"), max_length=64)
    site_id = models.UUIDField(_("site"), null=True, blank=True, db_index=True)
    area_path = models.CharField(_("area path"), max_length=255, blank=True)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["area_path"], name="audit_area_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        # Here, not above: the trail's reading reads the scope, which reads these models.
        from .audit_text import what

        # Not the record's key (a UUID): the entry's page names the record in its fields.
        return f"{timezone.localtime(self.at):%d/%m/%Y %H:%M} · {what(self)}"


class LoginFailure(models.Model):
    """A failed sign-in, kept for the lockout window only."""

    # The name's key as lockout.lockout_name makes it (a SHA-256 of the whole name), or
    # a counter's own key (pairing codes).
    name_digest = models.CharField(max_length=64)
    address = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["address", "name_digest", "at"], name="login_failure_lookup"),
            # The per-account limit counts a name's failures from every address.
            models.Index(fields=["name_digest", "at"], name="login_failure_by_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name_digest[:8]} @ {self.address} {self.at:%H:%M}"


def created_by_field() -> models.ForeignKey:
    """Who made a key or a code (a manager), kept when that person's account goes."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )


class DeviceToken(models.Model):
    """A tablet's key to the API. Only its hash is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("device"), max_length=100)
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = created_by_field()
    # Who was shown the key besides its holder: the manager who issued a GIS client's key
    # (it is shown once, to them), or the pairing code a tablet spent for it (they could
    # have spent it themselves). The key works only while they may manage the holder
    # (accounts/tokens.py).
    key_seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("key shown to"),
    )
    # Who else may know it: whoever knew the password of the person it was shown to
    # (scope.knowers_of_password; pentest 7).
    key_known_also_by = ArrayField(
        models.BigIntegerField(), verbose_name=_("key known also by"), default=list, blank=True, editable=False
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class PairingCode(models.Model):
    """A one-time code a manager shows a tablet (typed, or in a QR code) so that the tablet
    gets its own device token (accounts/pairing.py). Only its hash is stored; it lasts
    minutes and is spent by its first use."""

    code_hash = models.CharField(_("code hash"), max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pairing_codes", verbose_name=_("user")
    )
    name = models.CharField(_("device"), max_length=100)
    created_by = created_by_field()
    # Who may have been signed in as its creator when it was shown (scope.knowers_of_password),
    # as then: the key it gives is bound to them too, however that changes before it is spent.
    known_also_by = ArrayField(
        models.BigIntegerField(), verbose_name=_("code known also by"), default=list, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    token = models.OneToOneField(
        DeviceToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("key issued")
    )

    class Meta:
        verbose_name = _("pairing code")
        verbose_name_plural = _("pairing codes")

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"
