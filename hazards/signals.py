"""What hazards tells the apps above it, and where its pages show their links. They
connect their receivers and offer their links in their AppConfig.ready(), so hazards
names nothing above it (tests/test_layers.py)."""

from django.dispatch import Signal

# Places of hazards' pages where the apps above offer links (common.navigation.offer):
# an order's notice to the owner, in each format (a link about the order); the page to
# see what an import added.
ORDER_NOTICE = "hazards.order-notice"
IMPORTED = "hazards.imported"

# Sent at the end of a file import, in its transaction, once the temporary table
# imported_sites (the columns of hazards_site) holds every site the import inserted and
# has its statistics. Set-based: the import's inserts skip the row-level work of the
# triggers above (registry.import is set), and a receiver takes all the sites in one
# statement instead. A receiver's exception undoes the import.
sites_imported = Signal()

# Sent after a migrate wrote rules that differ from those the database held (a changed
# TIME_ZONE or evidence interval in the settings, a changed rules.sql), with `using`, the
# database: whatever an app keeps computed by the old rules is computed again.
rules_changed = Signal()
