"""What the map does when the apps below it change (connected in MappingConfig.ready()),
in the transaction of the change."""

from django.db import connection


def rebuild_cells(sender, **kwargs) -> None:
    """Receives boundaries_reloaded: the map's pyramid counts sites by province, and an
    area moved to another province moves them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT mapping_rebuild_cells()")


def add_imported_to_cells(sender, **kwargs) -> None:
    """Receives sites_imported: every site of the import into the grid in one statement."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT mapping_cells_add_imported()")
