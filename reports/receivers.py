"""What reports does when the apps below it change (connected in ReportsConfig.ready()),
in the transaction of the change."""

from django.db import DEFAULT_DB_ALIAS, connection, connections


def rebuild_summary(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Receives boundaries_reloaded: each area's summary holds its whole subtree, and an
    area moved under another parent moves it, with no site changed to tell the triggers;
    and rules_changed: the summary's days are the registry's, the kept as-of answers were
    counted by the old evidence interval (the stored as-of answers are dropped too)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summary()")


def add_imported_to_summary(sender, **kwargs) -> None:
    """Receives sites_imported: every site of the import into the daily summary in one
    statement (and the stored as-of answers it changes dropped)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_summary_add_imported()")
