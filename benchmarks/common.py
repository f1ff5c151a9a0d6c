"""What every benchmark shares: result rows, side-by-side timing, the table, scratch databases."""

from __future__ import annotations

import contextlib
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


@dataclass
class Row:
    """One line of the table: a figure, its baseline, their ratio and the goal."""

    bench: str
    figure: str
    ours: str
    baseline: str
    ratio: float | None
    goal: str
    met: bool | None
    ratio_text: str = ""

    def ratio_cell(self) -> str:
        if self.ratio_text:
            return self.ratio_text
        return "-" if self.ratio is None else f"{self.ratio:.2f}"


@dataclass
class Result:
    """A benchmark's rows plus notes (breakdowns, profiles) printed under the table."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Sizes:
    quick: bool
    reps: int


def side_by_side(
    variants: dict[str, Callable[[], float | None]], reps: int, setup: Callable[[str], None] | None = None
) -> dict[str, list[float]]:
    """Run every variant `reps` times, interleaved, rotating the order each round.

    A variant returns its own elapsed seconds (to leave set-up out) or None to be timed whole.
    `setup(name)` runs untimed before each call.
    """
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            if setup is not None:
                setup(name)
            start = time.perf_counter()
            elapsed = variants[name]()
            times[name].append(elapsed if elapsed is not None else time.perf_counter() - start)
    return times


def cpu_ticks() -> tuple[int, int]:
    """(ticks stolen by the hypervisor, all ticks) over every CPU since boot; (0, 0) where
    /proc/stat is not there. On a shared machine the stolen share says how noisy a figure is."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    # user nice system idle iowait irq softirq steal [guest guest_nice, counted in user already]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def stolen_since(start: tuple[int, int]) -> str:
    """The share of CPU time the host took since `start` (a cpu_ticks()), as `4% CPU stolen`."""
    steal, total = cpu_ticks()
    if total <= start[1]:
        return "stolen CPU unknown"
    return f"{100 * (steal - start[0]) / (total - start[1]):.0f}% CPU stolen"


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """`median (min-max, n=3)` of timings in seconds."""
    if len(values) == 1:
        return f"{values[0]:.2f} s (n=1)"
    return f"{median(values):.2f} s ({min(values):.2f}-{max(values):.2f}, n={len(values)})"


def rate(value: float, unit: str = "rows/s") -> str:
    if value >= 1e6:
        return f"{value / 1e6:.2f}M {unit}"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k {unit}"
    return f"{value:,.0f} {unit}"


def mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:,.1f} MiB"


def pg_url(database: str, driver: str = "psycopg") -> str:
    return f"postgresql+{driver}://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def pg_connect(database: str, **kwargs):
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database, connect_timeout=5, **kwargs)


@contextlib.contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """A new, empty database on the local server; dropped afterwards. Yields its name."""
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with pg_connect("postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with pg_connect("postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def log_errors(log_path, limit: int = 40) -> list[str]:
    """The lines of a `dagster dev` log that report a failure or an error (first `limit`)."""
    lines = log_path.read_text(errors="replace").splitlines()
    return [line[:400] for line in lines if "FAILURE" in line or "Error" in line or "error" in line][:limit]


def format_table(rows: list[Row]) -> str:
    header = ("benchmark", "figure", "ours", "baseline", "ratio", "goal", "met")
    cells = [header] + [
        (
            r.bench,
            r.figure,
            r.ours,
            r.baseline,
            r.ratio_cell(),
            r.goal,
            "-" if r.met is None else ("yes" if r.met else "NO"),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line]
    for i, c in enumerate(cells):
        out.append("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths)) + " |")
        if i == 0:
            out.append(line.replace("-", "="))
    out.append(line)
    return "\n".join(out)


def rate_limit_rows(label: str, sent: int, wall: float, budget, throttled: int) -> list[Row]:
    """Wall time against the bound a rate-limit budget sets (sent requests / budget rate), and the
    429 answers met: what every benchmark against the rate-limited demo server reports."""
    bound = sent / (budget.requests_per_window / budget.window_seconds)
    return [
        Row(
            label,
            f"wall s vs budget bound ({budget.requests_per_window}/{budget.window_seconds:.0f} s)",
            f"{wall:.1f} s",
            f"{bound:.1f} s",
            bound / wall,
            ">= 0.9",
            bound / wall >= 0.9,
        ),
        Row(label, "429 answers", str(throttled), "0", None, "0", throttled == 0),
    ]


def json_child(module: str, *args: str, timeout: float = 900) -> dict:
    """Run `python -m <module> args...` in the repository and parse its last stdout line as JSON."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args[:1])} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
