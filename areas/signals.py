"""What the area tree tells the apps above it when boundaries are loaded. Those apps
connect their receivers in their AppConfig.ready(), so areas names nothing above it:
apps depend one way (pyproject.toml's import-linter contract for imports,
tests/test_layers.py for the SQL and model names the linter cannot see).

Both are sent inside the load's transaction, and a receiver's exception undoes the load:
what a receiver does is part of the load, as if the loader did it itself."""

from django.dispatch import Signal

# Sent for each file of a load once its areas and their pieces are stored, with `extent`
# (a Polygon in WGS 84 around the file's areas): what lies in those areas has to find
# its area again. A receiver answers (records moved to another area, records no area
# covers now, which keep their old area); the load's summary adds them up.
areas_reloaded = Signal()

# Sent once at the end of a load, after every file: areas may have moved to another
# province, so whatever is grouped by province is grouped again.
boundaries_reloaded = Signal()
