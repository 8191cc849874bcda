"""The reference for loading a file: ogr2ogr into a scratch table of the benchmark database."""

import subprocess
import time
from pathlib import Path

from django.conf import settings


def ogr2ogr_ms(path: Path, table: str) -> float:
    """Wall time of ogr2ogr loading `path` into `table` (replaced), in milliseconds."""
    db = settings.DATABASES["default"]
    target = f"PG:host={db['HOST']} user={db['USER']} dbname={db['NAME']}"
    start = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-overwrite", "-f", "PostgreSQL", target, str(path), "-nln", table, "-lco", "GEOMETRY_NAME=geom"],
        check=True,
    )
    return (time.perf_counter() - start) * 1000
