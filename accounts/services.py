"""Writes to accounts that are not forms of the admin's own: each asks can_manage_user
(accounts/scope.py), names its actor for the audit trail, and runs in one transaction."""

from django.db import connection, transaction
from django.utils import timezone

from . import lockout
from .audit import act_as
from .models import AuditEntry, User
from .scope import OutOfScope, can_manage_user


def _require_manageable(actor, user: User) -> None:
    if not can_manage_user(actor, user):
        raise OutOfScope


def account_area(user: User) -> str:
    """The area path an account's audit entries are filed under (accounts/sql/audit.sql)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT registry_account_area(%s)", [user.pk])
        return cursor.fetchone()[0]


@transaction.atomic
def user_deactivate(*, actor, user: User) -> User:
    """The person can no longer sign in, use a device token or a map's tile token; their
    records and name stay (people are never deleted). Audited by the user table's trigger."""
    act_as(actor)
    _require_manageable(actor, user)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def sign_in_unlock(*, actor, user: User) -> int:
    """Lift the lockout on the person's name (accounts/lockout.py); returns the failures
    forgotten. Written to the audit trail as an unlock of the account."""
    act_as(actor)
    _require_manageable(actor, user)
    forgotten = lockout.unlock(user.get_username())
    AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor,
        action="unlock",
        table=User._meta.db_table,
        object_id=str(user.pk),
        area_path=account_area(user),
        changes={"sign_in_failures": [forgotten, 0]},
    )
    return forgotten
