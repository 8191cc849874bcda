"""`make bench`: each benchmark runs several times against the database built by
`make bench-data`, its reference runs in the same session, and bench/RESULTS.md records
median, p95, reference, ratio, target and verdict with notes on the machine."""

import datetime as dt
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")

RUNS = int(os.environ.get("BENCH_RUNS", 15))


@dataclass
class Result:
    name: str
    median_ms: float
    p95_ms: float
    reference: str
    reference_ms: float | None
    target: str
    passed: bool | None  # None: no target to meet

    @property
    def ratio(self) -> str:
        return f"{self.p95_ms / self.reference_ms:.2f}x" if self.reference_ms else "–"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(fn, runs: int = RUNS, before=None) -> list[float]:
    """Times of `runs` runs after one untimed warm-up run (cold caches are not the figure)."""
    if before:
        before()
    fn()
    times = []
    for _i in range(runs):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def psql_args(discard_output: bool = False) -> list[str]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    # ON_ERROR_STOP: a failing reference stops the benchmark instead of timing an error.
    args = ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", db["HOST"], "-U", db["USER"], "-d", db["NAME"]]
    return [*args, "-o", "/dev/null"] if discard_output else args


def psql_ms(sql: str, runs: int = 5, discard_output: bool = False) -> tuple[float, str]:
    """Median time psql reports for the statement, and its output (for comparison).
    discard_output: the rows still travel to psql, which throws them away."""
    script = "\\timing on\n" + "\n".join([sql.strip().rstrip(";") + ";"] * runs)
    out = subprocess.run(psql_args(discard_output), input=script, capture_output=True, text=True, check=True).stdout
    times = [float(t) for t in re.findall(r"^Time: ([\d.]+) ms", out, re.M)]
    rows = [line for line in out.splitlines() if line and not line.startswith("Time:") and line != "Timing is on."]
    return statistics.median(times), "\n".join(sorted(set(rows)))


class Psql:
    """One psql session kept open, so that a reference can be timed run by run between
    the runs of what it is compared with: both then meet the same state of the machine,
    whose speed drifts by up to 2x within a minute here. Output is discarded."""

    def __enter__(self):
        self.process = subprocess.Popen(
            psql_args(discard_output=True), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.process.stdin.write("\\timing on\n")
        return self

    def ms(self, sql: str) -> float:
        self.process.stdin.write(sql.strip().rstrip(";") + ";\n\\echo --done--\n")
        self.process.stdin.flush()
        took = None
        for line in self.process.stdout:
            if line.startswith("Time: "):
                took = float(line.split()[1])
            elif line.strip() == "--done--":
                break
        if took is None:
            raise SystemExit(f"psql gave no time for: {sql[:80]}")
        return took

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait()


def _commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "?"


def machine_notes() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0].split(",")[0]
        cursor.execute(
            "SELECT (SELECT count(*) FROM hazards_site), (SELECT count(*) FROM hazards_inspection), (SELECT count(*) FROM areas_area),"
            " (SELECT count(*) FROM accounts_user), (SELECT count(*) FROM django_session)"
        )
        sites, inspections, areas, people, sessions = cursor.fetchone()
    memory = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return [
        f"run on {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} at {_commit()}, {os.cpu_count()} cores, {int(memory) // 1024 // 1024} GiB, "
        f"{platform.python_implementation()} {platform.python_version()}, {pg}.",
        f"Data: {sites:,} sites, {inspections:,} inspections, {areas:,} areas, built by `make bench-data`; "
        f"{people:,} accounts and {sessions:,} sessions (bench/users.py registry_people).",
        f"Each figure: {RUNS} runs in one process; the reference runs in psql in the same session (median of 5).",
    ]


RESULTS = ROOT / "bench" / "RESULTS.md"
HEADER = "| suite | benchmark | median | p95 | reference | reference time | ratio (p95 / reference) | target | pass |"


def _kept_rows(rerun: set[str]) -> tuple[list[str], list[str]]:
    """The table rows and "measured" notes of suites this run does not measure, from the
    current RESULTS.md: `BENCH_ONLY=tile` replaces the tile rows and keeps the others."""
    if not RESULTS.exists():
        return [], []
    text = RESULTS.read_text()
    if HEADER not in text:
        return [], []
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.split("|")[1].strip() not in rerun]
    # Every note but the measured suites' own and the line each run writes again (the
    # notes on several suites, written by hand, stay too).
    notes = [
        line
        for line in text.split("## Machine and data", 1)[-1].splitlines()
        if line.startswith("- ")
        and not line.startswith("- Each figure:")
        and not (line.startswith("- Suite ") and line.removeprefix("- Suite ").split(":")[0].strip("`") in rerun)
    ]
    return [r for r in rows if r != HEADER], notes


def write(results: dict[str, list[Result]], notes: list[str], order: list[str]) -> None:
    kept, kept_notes = _kept_rows(set(results))
    measured = {}
    for suite, rows in results.items():
        measured[suite] = [
            f"| {suite} | {r.name} | {r.median_ms:.1f} ms | {r.p95_ms:.1f} ms | {r.reference} | "
            + (f"{r.reference_ms:.1f} ms" if r.reference_ms else "–")
            + f" | {r.ratio} | {r.target} | {'–' if r.passed is None else 'yes' if r.passed else 'NO'} |"
            for r in rows
        ]
    for row in kept:
        measured.setdefault(row.split("|")[1].strip(), []).append(row)
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (bench/run.py). `BENCH_ONLY=…` measures some suites again and keeps the",
        "other suites' rows; the notes say when each suite was last measured.",
        "",
        HEADER,
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for suite in sorted(measured, key=lambda s: order.index(s) if s in order else len(order)):
        lines += measured[suite]
    run_notes = [f"- Suite `{suite}`: {notes[0]} {notes[1]}" for suite in results]
    suite_notes = sorted([n for n in kept_notes if n.startswith("- Suite ")] + run_notes)
    other_notes = [n for n in kept_notes if not n.startswith("- Suite ")]
    lines += ["", "## Machine and data", "", *suite_notes, *other_notes, *[f"- {n}" for n in notes[2:]], ""]
    RESULTS.write_text("\n".join(lines))


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.utils import translation

    from bench import (
        browser_bench,
        export_bench,
        generate,
        import_bench,
        load_bench,
        ogc_bench,
        reassign_bench,
        remedy_bench,
        report_bench,
        submission_bench,
        sync_bench,
        tile_bench,
        users,
    )
    from hazards.models import Site

    translation.activate("en")
    generate.ensure_database()
    call_command("migrate", verbosity=0)
    if not Site.all_objects.exists():
        print("No benchmark data yet: building it first (make bench-data SCALE=... to choose the size).")
        generate.generate(int(os.environ.get("SCALE", 100_000)), 10)

    users.registry_people()
    notes = machine_notes()
    results = {}
    # Those that add data (sync, import) run last.
    suites = {
        "report": report_bench, "submission": submission_bench, "tile": tile_bench, "browser": browser_bench,
        "export": export_bench, "ogc": ogc_bench, "reassign": reassign_bench, "remedy": remedy_bench,
        "sync": sync_bench,
        "import": import_bench, "load": load_bench,
    }  # fmt: skip
    # BENCH_ONLY=tile,export runs some suites (the other suites' rows in RESULTS.md stay).
    chosen = os.environ.get("BENCH_ONLY", ",".join(suites)).split(",")
    for name in chosen:
        try:
            results[name] = suites[name].run(timed=timed, p95=p95, psql_ms=psql_ms, Result=Result)
        except (SystemExit, Exception) as exc:  # one broken benchmark must not lose the others' figures
            results[name] = [Result(f"NOT MEASURED ({exc})", 0, 0, "–", None, "–", False)]
        write(results, notes, list(suites))  # after each suite, so a long run shows what it has so far
    for r in (r for rows in results.values() for r in rows):
        print(
            f"{r.name}: median {r.median_ms:.1f} ms, p95 {r.p95_ms:.1f} ms, reference {r.reference_ms or 0:.1f} ms, {r.ratio}, {'–' if r.passed is None else 'pass' if r.passed else 'FAIL'}"
        )
    print(f"Wrote {ROOT / 'bench' / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
