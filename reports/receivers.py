"""What reports does when the apps below it change (connected in ReportsConfig.ready()),
in the transaction of the change."""

from django.db import connection


def rebuild_summary(sender, **kwargs) -> None:
    """Receives boundaries_reloaded: each area's summary holds its whole subtree, and an
    area moved under another parent moves it, with no site changed to tell the triggers
    (the stored as-of answers are dropped too)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summary()")


def add_imported_to_summary(sender, **kwargs) -> None:
    """Receives sites_imported: every site of the import into the daily summary in one
    statement (and the stored as-of answers it changes dropped)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_summary_add_imported()")
