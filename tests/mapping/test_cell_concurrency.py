"""Batches synced at once add to the same cells of the map's grid (a province's coarse
cells are shared by every site in it). Each upsert took its rows in the order of its own
hash table, so two batches could take the shared cells in opposite orders: the load run
of 200 tablets met a deadlock, answered 503 and sent again."""

import random
import threading

import pytest
from django.db import connection, transaction
from django.db.utils import OperationalError

from areas.models import Area

pytestmark = pytest.mark.django_db(transaction=True)

BATCHES, ROUNDS, POINTS = 3, 60, 60


def _deltas(rng: random.Random, communes: list[Area]) -> str:
    rows = []
    for _ in range(POINTS):
        commune = rng.choice(communes)
        west, south, east, north = commune.geom.extent
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        kind, signage = rng.choice(["pond", "lake", "well"]), rng.choice(["none", "in_place"])
        rows.append(
            f"ROW({commune.pk}, '{kind}', '{signage}', 'none', false, "
            f"ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326), 1)::mapping_cell_delta"
        )
    return "ARRAY[" + ", ".join(rows) + "]"


def test_batches_adding_to_shared_cells_at_once_never_deadlock(demo_tree):
    communes = [a for a in demo_tree.values() if a.level == "commune"]
    failures: list[Exception] = []
    start = threading.Barrier(BATCHES)

    def sync(seed: int):
        rng = random.Random(seed)
        try:
            start.wait()
            for _round in range(ROUNDS):
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"SELECT mapping_cells_add({_deltas(rng, communes)})")
        except OperationalError as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sync, args=(seed,)) for seed in range(BATCHES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
