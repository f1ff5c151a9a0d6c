"""Import: `reddit-assets import`'s work (import_directory: read, check, place atomically,
record a runless materialization per file, in batches) on a fresh local SQLite instance,
against `cp -r` of the same files. Both read the same source folder of small raw files
(one subreddit-day each, 5 submissions and 20 comments, as a year of 100 subreddits has).

Goal: a year of 100 subreddits (36,500 files) in under 3 minutes, i.e. 1,800 files in
under 8.9 s; the row shows the year extrapolated from the per-file time.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import dagster as dg
import yaml

from benchmarks.common import Result, Row, Sizes, median, side_by_side
from reddit_assets.config import load_config
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.migrate.importer import import_directory
from reddit_assets_demo.raw_documents import generated_raw_document

NAME = "import_bench"
START = dt.date(2025, 1, 1)
YEAR_FILES = 36_500
YEAR_GOAL_S = 180


def small_day(name: str, day: dt.date) -> dict:
    """One small subreddit-day: 5 submissions and 20 comments."""
    document = generated_raw_document(name, day, n_submissions=5, comments_per_submission=(4, 8), popular_threads=0)
    return {**document, "comments": document["comments"][:20]}


def write_sources(root: Path, days: int, names: list[str]) -> int:
    """Raw files laid out as the old system left them: <root>/<date>/<subreddit>.json. Bytes written."""
    total = 0
    for i in range(days):
        day = START + dt.timedelta(days=i)
        for name in names:
            total += write_raw_file(root / day.isoformat() / f"{name}.json", small_day(name, day)).size
    return total


def write_config(path: Path, names: list[str], start: dt.date = START) -> Path:
    # Second pass off: after an import of past days every partition is due at once, and the
    # second_pass_when_due sensor's requests (and their runs, which would call Reddit) are not
    # part of what these benchmarks measure.
    config = {
        "start_date": start.isoformat(),
        "second_pass": {"enabled": False},
        "subreddits": [{"name": n} for n in names],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def run(sizes: Sizes) -> Result:
    days, n_subreddits = (10, 6) if sizes.quick else (90, 20)
    names = [f"bench{i:02d}" for i in range(n_subreddits)]
    files = days * n_subreddits
    today = START + dt.timedelta(days=days + 1)
    result = Result()
    with tempfile.TemporaryDirectory(prefix="reddit-bench-import-") as tmp:
        root = Path(tmp)
        source = root / "old"
        write_sources(source, days, names)
        config = load_config(write_config(root / "subreddits.yaml", names))
        targets = {"ours": root / "ours", "cp": root / "cp"}
        counts: list[int] = []

        def fresh(name: str) -> None:
            shutil.rmtree(targets[name], ignore_errors=True)
            targets[name].mkdir()

        def ours() -> float:
            with dg.DagsterInstance.local_temp(str(targets["ours"])) as instance:
                start = time.perf_counter()
                report = import_directory(
                    source, config=config, data_dir=targets["ours"] / "data", instance=instance, today=today
                )
                elapsed = time.perf_counter() - start
            recorded = sum(1 for o in report.outcomes if o.recorded == "recorded")
            if report.exit_code or recorded != files:
                raise RuntimeError(f"import recorded {recorded} of {files} files (exit {report.exit_code})")
            counts.append(recorded)
            return elapsed

        def cp() -> None:
            subprocess.run(["cp", "-r", str(source), str(targets["cp"] / "data")], check=True)

        times = side_by_side({"ours": ours, "cp": cp}, sizes.reps, setup=fresh)
    per_file = median(times["ours"]) / files
    year_s = per_file * YEAR_FILES
    ratio = median(times["ours"]) / median(times["cp"])
    result.rows.append(
        Row(
            f"Import {files:,} files (SQLite instance)",
            "s, import vs cp -r (year = 36,500 files extrapolated)",
            f"{median(times['ours']):.2f} s ({1000 * per_file:.1f} ms/file; year {year_s:.0f} s)",
            f"{median(times['cp']):.2f} s",
            ratio,
            f"year < {YEAR_GOAL_S} s",
            year_s < YEAR_GOAL_S,
            ratio_text=f"{ratio:.1f}x",
        )
    )
    return result
