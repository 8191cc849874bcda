"""Benchmarks: the development settings on a database of their own, so national-scale
data never mixes with the demo."""

import os

from .dev import *  # noqa: F403
from .dev import DATABASES

DEBUG = False  # no query log growing through a million rows
DATABASES["default"]["NAME"] = os.environ.get("BENCH_DB", "hazards_bench")
# Kept open between requests, as in production (base settings): not a new connection per tile.
DATABASES["default"]["CONN_MAX_AGE"] = 60
