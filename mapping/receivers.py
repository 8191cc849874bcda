"""What the map does when the apps below it change (connected in MappingConfig.ready()),
in the transaction of the change."""

from django.db import DEFAULT_DB_ALIAS, connection, connections


def rebuild_cells(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Receives boundaries_reloaded: the map's pyramid counts sites by province, and an
    area moved to another province moves them; and rules_changed: the grid by state
    counts each cell's sites by the state rule, which a site's row did not change."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT mapping_rebuild_cells()")


def add_imported_to_cells(sender, **kwargs) -> None:
    """Receives sites_imported: every site of the import into the grid in one statement."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT mapping_cells_add_imported()")
