"""Memory: peak RSS of scraping, then loading, one thread of N comments, against the raw file size.

Each phase runs in its own interpreter (as Dagster runs each step in its own process):
the scrape (RedditResource.scrape, real PRAW, from the demo server in this process, then
write_raw_file) and the load (read_normalized, as the database asset reads, then
replace_partition) into SQLite and into PostgreSQL. Peak is VmHWM above the interpreter's
RSS once imports are done. Goal: peak < 4 x raw file + that baseline, at every size;
sizes show how it grows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import Result, Row, Sizes, json_child, mib, pg_url, scratch_postgres
from benchmarks.data import DAY
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_demo.server import RedditServer

NAME = "memory"
REPO_ROOT = Path(__file__).resolve().parents[1]
GOAL = 4.0


def _child(*args: str) -> dict:
    return json_child("benchmarks.memory_child", *args)


def run(sizes: Sizes) -> Result:
    counts = (5_000, 10_000) if sizes.quick else (25_000, 50_000, 100_000)
    result = Result()
    growth = []
    with (
        tempfile.TemporaryDirectory(prefix="reddit-bench-memory-") as tmp,
        scratch_postgres("reddit_bench_memory") as database,
    ):
        for n in counts:
            name = f"benchmem{n // 1000}k"
            data = generate_subreddit(name, DAY, n_submissions=1, big_thread_comments=n, popular_threads=0)
            raw_path = Path(tmp) / f"{name}.json"
            with RedditServer({name: data}, day=DAY) as server:
                scrape = _child("scrape", server.url, name, str(raw_path))
            del data
            sqlite = _child("load", str(raw_path), f"sqlite:///{Path(tmp) / f'{name}.db'}")
            postgres = _child("load", str(raw_path), pg_url(database))
            raw = scrape["raw_bytes"]
            phases = {"scrape": scrape, "load SQLite": sqlite, "load PostgreSQL": postgres}
            worst_name, worst = max(phases.items(), key=lambda kv: kv[1]["peak"] - kv[1]["baseline"])
            above = worst["peak"] - worst["baseline"]
            result.rows.append(
                Row(
                    f"Memory, 1 thread of {n:,} comments",
                    f"peak RSS ({worst_name}) vs 4 x raw + base",
                    mib(worst["peak"]),
                    f"{mib(raw)} raw + {mib(worst['baseline'])}",
                    above / raw,
                    f"<= {GOAL:g}",
                    above / raw <= GOAL,
                    ratio_text=f"{above / raw:.2f}x raw",
                )
            )
            growth.append((n, raw, {k: v["peak"] - v["baseline"] for k, v in phases.items()}))
            result.notes.append(
                f"Memory {n:,} comments: raw file {mib(raw)}; above baseline: "
                + "; ".join(
                    f"{k} {mib(v['peak'] - v['baseline'])} ({(v['peak'] - v['baseline']) / raw:.2f}x raw,"
                    f" baseline {mib(v['baseline'])}, {v['seconds']:.1f} s)"
                    for k, v in phases.items()
                )
                + f"; scrape peak before write_raw_file {mib(scrape['peak_scrape'] - scrape['baseline'])};"
                f" load SQLite peak after read + normalize {mib(sqlite['peak_normalize'] - sqlite['baseline'])};"
                f" scrape requests {scrape['requests']} (minimum {2 + 1 + -(-max(0, n - 200) // 100)})"
            )
    if len(growth) > 1:
        (n0, r0, p0), (n1, r1, p1) = growth[0], growth[-1]
        result.notes.append(
            "Memory growth per 10,000 comments: raw file "
            + mib((r1 - r0) / (n1 - n0) * 10_000)
            + "; "
            + "; ".join(f"{k} {mib((p1[k] - p0[k]) / (n1 - n0) * 10_000)}" for k in p0)
        )
    return result
