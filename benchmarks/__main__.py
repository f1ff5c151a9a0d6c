"""Run the benchmarks and print one table: figure, baseline, ratio (medians), goal."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback

from benchmarks.common import Result, Row, Sizes, cpu_ticks, format_table, stolen_since

MODULES = (
    "pg_load",
    "sqlite_load",
    "backfill",
    "scrape_rate",
    "second_pass",
    "memory",
    "archive_upload",
    "archive_backfill",
    "import_bench",
    "dump_bench",
    "stream_bench",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every benchmark")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(MODULES)}")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per measurement (default 3, quick 2)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    sizes = Sizes(quick=args.quick, reps=args.reps or (2 if args.quick else 3))

    started, ticks = time.perf_counter(), cpu_ticks()
    rows: list[Row] = []
    notes: list[str] = []
    failed = False
    load = os.getloadavg()
    print(
        f"benchmarks: {', '.join(names)} ({'quick' if args.quick else 'full'} sizes, {sizes.reps} reps; "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} at start)",
        flush=True,
    )
    for name in names:
        t0, name_ticks = time.perf_counter(), cpu_ticks()
        print(f"  {name} ...", flush=True)
        try:
            result: Result = importlib.import_module(f"benchmarks.{name}").run(sizes)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failed = True
            traceback.print_exc()
            message = f"{type(exc).__name__}: {exc}"
            result = Result(
                rows=[Row(name, "FAILED (see notes)", "-", "-", None, "-", False)],
                notes=[f"{name} FAILED: {message[:2000]}"],
            )
        rows.extend(result.rows)
        notes.extend(result.notes)
        print(f"  {name} done in {time.perf_counter() - t0:.0f} s ({stolen_since(name_ticks)})", flush=True)

    print()
    print(format_table(rows))
    if notes:
        print("\nNotes:")
        for note in notes:
            print(f"- {note}")
    load = os.getloadavg()
    print(
        f"\nTotal wall time: {time.perf_counter() - started:.0f} s ({stolen_since(ticks)} by the host; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
