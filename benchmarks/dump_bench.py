"""Dumps: `reddit-assets import`'s dump path (import_dumps: decompress, split into days, write
and record them) of one subreddit's comments dump spanning a year, against the plain loop
`zstd -dc --long=31 FILE | python: json.loads per line` over the same file in the same run
(if the zstd binary is missing, a Python zstandard stream + json.loads loop; the row says
which). Both run in child processes; peak RSS is the import child's ru_maxrss.

Goals: at least 0.5x the plain loop's speed, and under 500 MB RSS. The dump is generated
once into a temporary folder: >= 1 GB decompressed (quick: ~100 MB), 365 days, written
with the dumps' 2 GiB window.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
import zstandard

from benchmarks.common import Result, Row, Sizes, json_child, mib, side_by_side

NAME = "dump_bench"
REPO_ROOT = Path(__file__).resolve().parents[1]
START = dt.date(2025, 1, 1)
SUBREDDIT = "dumpbench"
SPEED_GOAL, RSS_GOAL = 0.5, 500 << 20
_PLAIN_LOOP = "import json, sys\nn = 0\nfor line in sys.stdin.buffer:\n    json.loads(line)\n    n += 1\nprint(n)\n"
# zstd -dc's own peak RSS on the file: a decoder holds up to the frame's window (2 GiB) of output.
_DECODER_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
)
_PYTHON_LOOP = (
    "import io, json, sys, zstandard\n"
    "reader = zstandard.ZstdDecompressor(max_window_size=2**31).stream_reader(open(sys.argv[1], 'rb'))\n"
    "n = 0\nfor line in io.BufferedReader(reader, 1 << 20):\n    json.loads(line)\n    n += 1\nprint(n)\n"
)


def write_year_dump(path: Path, target_bytes: int) -> tuple[int, int]:
    """A `<name>_comments.zst` of ~target_bytes decompressed NDJSON over 365 days, in created_utc
    order, in the newer schema (Arctic Shift's fields). (lines, decompressed bytes)."""
    rng = random.Random(24)
    words = ["reddit", "dump", "archive", "python", "dagster", "comment", "thread", "score", "day", "line"]
    bodies = [" ".join(rng.choices(words, k=rng.randint(5, 80))) for _ in range(500)]
    base = {
        "all_awardings": [],
        "author": "someone",
        "author_flair_text": None,
        "controversiality": 0,
        "distinguished": None,
        "edited": False,
        "gilded": 0,
        "is_submitter": False,
        "score": 1,
        "stickied": False,
        "subreddit": SUBREDDIT,
        "subreddit_id": "t5_abc",
        "_meta": {"was_deleted_later": False},
    }
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31)
    per_day = max(1, int(target_bytes / 650 / 365))
    lines = written = 0
    start = int(dt.datetime.combine(START, dt.time(), tzinfo=dt.UTC).timestamp())
    with open(path, "wb") as out, zstandard.ZstdCompressor(compression_params=params).stream_writer(out) as sink:
        for day in range(365):
            batch = []
            for i in range(per_day):
                created = start + day * 86400 + i * 86400 // per_day
                item_id = f"k{lines:07x}"
                link = f"s{day:03d}{i % 50:02d}"
                parent = f"t3_{link}" if i % 3 == 0 else f"t1_k{max(lines - 1, 0):07x}"
                item = {
                    **base,
                    "id": item_id,
                    "link_id": f"t3_{link}",
                    "parent_id": parent,
                    "permalink": f"/r/{SUBREDDIT}/comments/{link}/x/{item_id}/",
                    "body": bodies[lines % len(bodies)],
                    "created_utc": created,
                    "retrieved_utc": created + 120,
                }
                batch.append(json.dumps(item))
                lines += 1
            data = ("\n".join(batch) + "\n").encode()
            written += len(data)
            sink.write(data)
    return lines, written


def _child(code: str, *args: str, stdin=None) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, stdin=stdin, capture_output=True, timeout=3600)
    return time.perf_counter() - started


def _import_child(dump: Path, work: Path) -> dict:
    return json_child("benchmarks.dump_bench", str(dump), str(work), timeout=3600)


def run(sizes: Sizes) -> Result:
    target = (100 << 20) if sizes.quick else (1100 << 20)
    result = Result()
    with tempfile.TemporaryDirectory(prefix="reddit-bench-dumps-") as tmp:
        root = Path(tmp)
        dump = root / f"{SUBREDDIT}_comments.zst"
        t0 = time.perf_counter()
        lines, decompressed = write_year_dump(dump, target)
        generated = time.perf_counter() - t0
        zstd = shutil.which("zstd")
        figures: list[dict] = []

        def ours() -> float:
            shutil.rmtree(root / "work", ignore_errors=True)
            (root / "work").mkdir()
            figures.append(_import_child(dump, root / "work"))
            return figures[-1]["seconds"]

        def plain() -> float | None:
            if zstd:
                started = time.perf_counter()
                unzip = subprocess.Popen([zstd, "-dc", "--long=31", str(dump)], stdout=subprocess.PIPE)
                _child(_PLAIN_LOOP, stdin=unzip.stdout)
                unzip.stdout.close()
                if unzip.wait() != 0:
                    raise RuntimeError("zstd -dc failed")
                return time.perf_counter() - started
            return _child(_PYTHON_LOOP, str(dump))

        times = side_by_side({"ours": ours, "plain": plain}, max(1, sizes.reps - 1))
        decoder_rss = None
        if zstd:
            out = subprocess.run(
                [sys.executable, "-c", _DECODER_RSS, zstd, "-dc", "--long=31", str(dump)],
                check=True,
                capture_output=True,
                text=True,
                timeout=3600,
            )
            decoder_rss = int(out.stdout.strip())
    ours_s, plain_s = min(times["ours"]), min(times["plain"])
    speed = plain_s / ours_s
    baseline = "zstd -dc --long=31 | json.loads loop" if zstd else "zstandard stream + json.loads loop (no zstd binary)"
    last = figures[-1]
    result.rows.append(
        Row(
            f"Dump import, {mib(decompressed)} NDJSON, {lines:,} comments, 365 days",
            f"s, import vs {baseline} (speed ratio)",
            f"{ours_s:.1f} s ({decompressed / ours_s / 1e6:.0f} MB/s)",
            f"{plain_s:.1f} s",
            speed,
            f">= {SPEED_GOAL}x",
            speed >= SPEED_GOAL,
            ratio_text=f"{speed:.2f}x",
        )
    )
    # The decoder's window is the dump's, not ours: the goal is on what the import holds beyond it.
    window = decoder_rss if decoder_rss is not None else 0
    above = last["max_rss"] - window
    result.rows.append(
        Row(
            "Dump import, peak RSS",
            "ru_maxrss of the import's process vs zstd -dc's on the file (the decoder's window)"
            if decoder_rss is not None
            else "ru_maxrss of the import's process",
            mib(last["max_rss"]),
            mib(window) if decoder_rss is not None else "-",
            None,
            "< zstd's + 500 MB",
            above < RSS_GOAL,
            ratio_text=f"+{mib(above)}",
        )
    )
    result.notes.append(
        f"Dump import: {dump.name} {mib(decompressed)} decompressed ({lines:,} lines, generated in {generated:.0f} s);"
        f" a year of one subreddit end to end: {last['days']} day files written and recorded in {last['seconds']:.1f} s"
        f" (read and split {last['read_seconds']:.1f} s); largest parsing worker's peak RSS"
        f" {mib(last['workers_max_rss'])}; runs: ours {', '.join(f'{t:.1f}' for t in times['ours'])} s,"
        f" plain {', '.join(f'{t:.1f}' for t in times['plain'])} s"
    )
    return result


def _import(dump: str, work: str) -> dict:
    """In the child: import one dump into a fresh data folder and SQLite instance."""
    import dagster as dg

    from reddit_assets.config import load_config
    from reddit_assets.migrate.dump_import import import_dumps

    work_dir = Path(work)
    config_path = work_dir / "subreddits.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {"start_date": START.isoformat(), "second_pass": {"enabled": False}, "subreddits": [{"name": SUBREDDIT}]}
        )
    )
    config = load_config(config_path)
    with dg.DagsterInstance.local_temp(str(work_dir)) as instance:
        started = time.perf_counter()
        report = import_dumps(
            [Path(dump)],
            config=config,
            data_dir=work_dir / "data",
            instance=instance,
            today=START + dt.timedelta(days=400),
        )
        seconds = time.perf_counter() - started
    recorded = sum(1 for o in report.outcomes if o.recorded == "recorded")
    if report.exit_code or recorded != 365:
        raise RuntimeError(f"dump import recorded {recorded} of 365 days (exit {report.exit_code})")
    return {
        "seconds": seconds,
        "read_seconds": report.read_seconds,
        "days": recorded,
        "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "workers_max_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    }


if __name__ == "__main__":
    print(json.dumps(_import(*sys.argv[1:])))
