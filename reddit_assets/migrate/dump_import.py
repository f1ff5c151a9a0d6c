"""Importing Pushshift / Arctic Shift dumps: lines of configured subreddits -> one raw file per
(day, subreddit), recorded as reddit/raw_scrape materializations like any import.

1. Each `.zst` is read once (`dump_read`): its compressed bytes hashed, its lines split. In an
   all-of-Reddit file (RS_/RC_) a line none of whose `"subreddit": "..."` values is configured
   is counted and skipped before it is parsed. A parsed line of a configured subreddit is
   checked as a table load would check it (in batches) and appended, exactly as the dump wrote
   it, to a spill file per (day, subreddit) and parsing process in the import's private staging
   folder, by the process that parsed it: days are never held in memory, so memory does not
   depend on the dumps' size.
2. Each spilled day is assembled (the newest retrieval of an item wins; with an existing
   dump-made raw file of that day, its items take part too), written into the staging folder and
   renamed into place. A day that already holds a scrape (or another import) is a conflict,
   reported and left alone unless `overwrite`.
3. All days are recorded at the end, in one transaction per importer.RECORD_TOGETHER, so
   the automation sensor loads and archives the whole import as one backfill.

A truncated or corrupt stream: its file is reported with the compressed byte offset where it
stops. Dumps are in `created_utc` order, so the days before the day of the last complete line
are whole and kept; that day and every later one the file could hold (for the subreddits it
could hold) are refused, whatever other files give for them: no half day is recorded as whole.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from reddit_assets.config import AppConfig
from reddit_assets.files.atomic import fsync_dir, sha256_file
from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import size_problem
from reddit_assets.migrate.dump_days import BuiltDay, DayJob, build_day
from reddit_assets.migrate.dump_format import (
    DUMP_FORMAT,
    DumpFile,
    LineProblem,
    dump_file,
    parse_line,
)
from reddit_assets.migrate.dump_lines import ChunkResult, ChunkSpec, parse_chunk
from reddit_assets.migrate.dump_read import DumpStream, StreamCut
from reddit_assets.migrate.importer import _place, _staging, record_materializations, scan_folder
from reddit_assets.migrate.source_file import BAD, CONFLICT, IMPORTED, PRESENT, Outcome
from reddit_assets.partitions import partition_key

# Decompressed lines handed to a worker at once, and how many chunks may wait: what is in flight
# stays under ~(CHUNKS_AHEAD + workers) x CHUNK_BYTES. From PROCESS_MIN_BYTES of compressed dumps on,
# chunks are parsed in one worker process per core while this one decompresses; below that in line.
CHUNK_BYTES = 4 << 20
CHUNKS_AHEAD = 4
DAYS_AHEAD = 8  # days being built by workers while this process places the ones before
PROCESS_MIN_BYTES = 64 << 20
BAD_LINES_SHOWN = 50  # per file; the rest are counted
PROGRESS_SECONDS = 5.0
_LIST_OF = {"s": "submissions", "c": "comments"}


@dataclass
class DumpFileReport:
    """One dump file as read: what it holds, what became of its lines, where it stopped."""

    path: Path
    dump: DumpFile | None
    sha256: str = ""
    size: int = 0
    lines: int = 0
    kept: int = 0
    other_subreddits: int = 0
    bad_lines: int = 0
    shown: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason), the first ones
    cut: str | None = None  # why and where the stream stopped early
    skipped: str | None = None  # why the file was not read

    def bad(self, line: int, reason: str) -> None:
        self.bad_lines += 1
        if len(self.shown) < BAD_LINES_SHOWN:
            self.shown.append((line, reason))


@dataclass(frozen=True)
class _Refusal:
    """Days a truncated file may hold only in part: from `first` (to `last`), for `subreddits` (None: all)."""

    first: dt.date
    last: dt.date | None
    subreddits: frozenset[str] | None
    reason: str

    def covers(self, day: dt.date, name: str) -> bool:
        return (
            day >= self.first
            and (self.last is None or day <= self.last)
            and (self.subreddits is None or name in self.subreddits)
        )


@dataclass
class DumpImportReport:
    dry_run: bool
    start_date: dt.date
    files: list[DumpFileReport] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)  # one per (day, subreddit)
    before_start: list[Outcome] = field(default_factory=list)
    read_seconds: float = 0.0  # reading and splitting the files, before the days are written

    @property
    def failed(self) -> bool:
        return any(o.failed for o in self.outcomes) or any(f.bad_lines or f.cut for f in self.files)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def scan_dumps(root: Path) -> tuple[list[Path], list[Outcome]]:
    """(every `*.zst` under root, or root itself if it is a file; symlinks refused), sorted."""
    if root.is_file():
        return [root], []
    return scan_folder(root, suffix=".zst")


class _Spill:
    """The spill files per (day, subreddit) in the staging folder, as the parsing processes report them."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[tuple[dt.date, str], dict[Path, None]] = {}  # in the order first reported
        self.sizes: dict[tuple[dt.date, str], int] = {}

    def add(self, key: tuple[dt.date, str], path: Path, size: int) -> None:
        self.files.setdefault(key, {})[path] = None
        self.sizes[key] = self.sizes.get(key, 0) + size


class _Progress:
    """A line every PROGRESS_SECONDS on a long import: lines read, MB/s decompressed, days written."""

    def __init__(self, say: Callable[[str], None] | None):
        self.say, self.started, self.last = say, time.perf_counter(), time.perf_counter()
        self.lines = self.decompressed = self.days = 0
        self.decompressed_before = 0  # by the files read before this one

    def tick(self, what: str, force: bool = False) -> None:
        now = time.perf_counter()
        if self.say is None or (not force and now - self.last < PROGRESS_SECONDS):
            return
        self.last = now
        rate = self.decompressed / max(now - self.started, 1e-9) / 1e6
        self.say(f"{what}: {self.lines:,} lines, {rate:.0f} MB/s, {self.days:,} days written")


class _Reader:
    """Reads dump files into the spill; one per import."""

    def __init__(self, configured: dict[str, str], timezone: str, spill: _Spill, progress: _Progress, workers):
        self.configured, self.timezone, self.spill, self.progress = configured, timezone, spill, progress
        self.workers = workers
        self.latest = time.time() + 86400
        self.refusals: list[_Refusal] = []
        self.lines_before = 0  # in the files read before this one

    def read(self, path: Path, index: int) -> DumpFileReport:
        report = DumpFileReport(path, dump_file(path.name))
        dump = report.dump
        if dump is None:
            report.skipped = (
                "not a dump's name (RS_YYYY-MM.zst, RC_YYYY-MM.zst, <name>_submissions.zst, <name>_comments.zst)"
            )
            return report
        if dump.subreddit is not None and dump.subreddit.lower() not in self.configured:
            report.skipped = f"r/{dump.subreddit} is not in the config: not read"
            return report
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below; a read error is this file's
        except OSError as exc:
            report.cut = f"cannot be read ({exc.strerror})"
            return report
        with handle:
            stream = DumpStream(handle)
            last = self._lines(stream, report, dump, index)
        report.sha256, report.size = stream.sha256, stream.size
        if stream.cut is not None:
            self._refuse_after_cut(report, dump, stream, stream.cut, last)
        return report

    def _lines(self, stream: DumpStream, report: DumpFileReport, dump: DumpFile, index: int) -> bytes | None:
        """Hand the file's text to the workers in chunks of whole lines, in order; the last chunk."""
        spec = ChunkSpec(
            dump.kind, dump.all_of_reddit, self.configured, self.timezone, self.latest, index, self.spill.folder
        )
        ahead: deque[Future] = deque()
        lines, last = 0, None
        for chunk in stream.chunks(CHUNK_BYTES):
            ahead.append(self.workers.submit(parse_chunk, spec, lines + 1, chunk))
            lines += chunk.count(b"\n") + 1
            last = chunk
            self.progress.lines = self.lines_before + lines
            self.progress.decompressed = self.progress.decompressed_before + stream.decompressed
            self.progress.tick(report.path.name)
            while len(ahead) > CHUNKS_AHEAD:
                self._take(ahead.popleft().result(), report)
        while ahead:
            self._take(ahead.popleft().result(), report)
        report.lines = lines
        self.lines_before += lines
        self.progress.lines = self.lines_before
        self.progress.decompressed_before += stream.decompressed
        self.progress.decompressed = self.progress.decompressed_before
        return last

    def _take(self, result: ChunkResult, report: DumpFileReport) -> None:
        for number, reason in result.bad:
            report.bad(number, reason)
        report.other_subreddits += result.other_subreddits
        report.kept += result.kept
        for key, (path, size) in result.spilled.items():
            self.spill.add(key, path, size)

    def _refuse_after_cut(
        self, report: DumpFileReport, dump: DumpFile, stream: DumpStream, cut: StreamCut, last: bytes | None
    ) -> None:
        first = self._day_of(last) if last else None
        partial = "; the line at the cut is incomplete" if stream.partial_line else ""
        where = f"after line {report.lines:,} (decompressed byte {stream.decompressed:,}){partial}"
        if first is None:  # nothing complete to date the cut by: every day it could hold
            first = dump.month - dt.timedelta(days=1) if dump.month else dt.date(2005, 1, 1)
        report.cut = f"{cut.problem} {cut.where} compressed byte {cut.offset:,} of {stream.size:,}, {where}"
        last_day = None
        if dump.month is not None:  # a monthly file holds its month (a day more either side in a time zone)
            next_month = (dump.month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            last_day = next_month
        subs = None if dump.subreddit is None else frozenset({self.configured[dump.subreddit.lower()]})
        self.refusals.append(
            _Refusal(first, last_day, subs, f"{report.path.name} is truncated within or before this day ({report.cut})")
        )

    def _day_of(self, chunk: bytes) -> dt.date | None:
        """The day of the chunk's last good line (a blank or bad one at the end is passed over)."""
        for raw in reversed(chunk.split(b"\n")):
            try:
                return dt.datetime.fromtimestamp(parse_line(raw, self.latest).created, ZoneInfo(self.timezone)).date()
            except LineProblem:
                continue
        return None


class _Assembler:
    """Turns spilled days into placed raw files: built by the workers, placed here in day order."""

    def __init__(self, report: DumpImportReport, files: list[DumpFileReport], data_dir: Path, staging: Path, **opts):
        self.report, self.files, self.data_dir, self.staging = report, files, data_dir, staging
        self.overwrite, self.today, self.refusals = opts["overwrite"], opts["today"], opts["refusals"]
        self.start_date = opts["start_date"]
        self.folders: set[Path] = set()
        self.unsynced: set[Path] = set()
        self.to_record: list[Outcome] = []

    def job(self, key: tuple[dt.date, str], spill: _Spill, number: int) -> tuple[Outcome, DayJob | None]:
        """The day's outcome so far, and what a worker is to build (None: refused here)."""
        day, name = key
        target = raw_file_path(self.data_dir, day, name)
        outcome = Outcome(self.files[0].path, IMPORTED, raw_path=target, source_format=DUMP_FORMAT)
        outcome.partition = str(partition_key(day, name))
        refusal = next((r for r in self.refusals if r.covers(day, name)), None)
        if refusal is not None:
            outcome.status, outcome.reason = BAD, f"refused: {refusal.reason}"
            return outcome, None
        if day > self.today:
            outcome.status, outcome.reason = BAD, f"date {day} is in the future (today is {self.today})"
            return outcome, None
        problem = size_problem(spill.sizes[key])
        if problem:
            outcome.status, outcome.reason = BAD, f"the day's lines are too big for one raw file: {problem}"
            return outcome, None
        sources = tuple((f.path.name, f.sha256, f.size) for f in self.files)
        spilled = tuple(spill.files[key])
        return outcome, DayJob(day, name, spilled, self.staging / f"day-{number}.json", target, sources, self.overwrite)

    def settle(self, outcome: Outcome, built: BuiltDay, staged: Path) -> Outcome:
        """Place a built day (unless a conflict or already present) and queue its recording."""
        outcome.status, outcome.reason = built.status, built.reason
        outcome.source = self.files[built.source].path
        if built.status == CONFLICT:
            return outcome
        outcome.sha256, outcome.size = built.sha256, built.size
        outcome.submissions, outcome.comments = built.submissions, built.comments
        target = outcome.required_raw_path()
        if target.exists() and sha256_file(target) == outcome.sha256:
            outcome.status, outcome.reason = PRESENT, "already present"
        elif not self.report.dry_run:
            _place(staged, target, self.folders)
            self.unsynced.add(target.parent)
        staged.unlink(missing_ok=True)
        day = dt.date.fromisoformat(outcome.required_partition().split("|")[0])
        if day < self.start_date:
            self.report.before_start.append(outcome)
        elif self.report.dry_run:
            outcome.recorded = "would be recorded"
        else:
            self.to_record.append(outcome)
        return outcome

    def finish(self, instance: dg.DagsterInstance | None) -> None:
        for folder in sorted(self.unsynced | {f.parent for f in self.unsynced}):
            fsync_dir(folder)
        if self.to_record:
            if instance is None:  # only a dry run has none, and it records nothing
                raise ValueError("recording an import needs the Dagster instance")
            record_materializations(instance, self.to_record)


class _InLine(Executor):
    """Runs each call at once, in this process: a small import needs no workers."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _workers(paths: list[Path], workers: int | None) -> Executor:
    if workers is None:
        size = sum(p.stat().st_size for p in paths if p.is_file())
        workers = max(2, os.cpu_count() or 1) if size >= PROCESS_MIN_BYTES else 0
    if workers == 0:
        return _InLine()
    # spawn, not fork: the caller may hold threads and the instance's connections
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def import_dumps(
    paths: list[Path],
    *,
    config: AppConfig,
    data_dir: str | os.PathLike,
    instance: dg.DagsterInstance | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
    today: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> DumpImportReport:
    """Import the dump files `paths` (see the module's docstring) into `data_dir`, recording the
    days in `instance` (not needed with `dry_run`, which places and records nothing).

    Days are cut by `created_utc` in the schedule's time zone. `progress` gets a line now and
    then on a long import. `workers`: processes parsing lines (0: in this process); by default
    one per core from PROCESS_MIN_BYTES of dumps on. Worker processes are spawned, importing the
    caller's main module: a script must call this under `if __name__ == "__main__":`.
    """
    if instance is None and not dry_run:
        raise ValueError("an import that is not a dry run needs the Dagster instance")
    data_dir = Path(data_dir)
    today = today or dt.datetime.now(ZoneInfo(config.schedule.timezone)).date()
    report = DumpImportReport(dry_run=dry_run, start_date=config.start_date)
    meter = _Progress(progress)
    with _staging(data_dir, dry_run) as staging, _workers(paths, workers) as pool:
        spill = _Spill(staging / "spill")
        reader = _Reader({n.lower(): n for n in config.names}, config.schedule.timezone, spill, meter, pool)
        for index, path in enumerate(paths):
            report.files.append(reader.read(path, index))
        report.read_seconds = time.perf_counter() - meter.started
        assembler = _Assembler(
            report,
            report.files,
            data_dir,
            staging,
            overwrite=overwrite,
            today=today,
            refusals=reader.refusals,
            start_date=config.start_date,
        )
        ahead: deque[tuple[Outcome, DayJob, Future]] = deque()

        def settle_first() -> None:
            outcome, job, built = ahead.popleft()
            report.outcomes.append(assembler.settle(outcome, built.result(), job.staged))
            meter.days += 1
            meter.tick("writing days")

        for number, key in enumerate(sorted(spill.files)):
            outcome, job = assembler.job(key, spill, number)
            if job is None:
                report.outcomes.append(outcome)
                continue
            ahead.append((outcome, job, pool.submit(build_day, job)))
            if len(ahead) > DAYS_AHEAD:
                settle_first()
        while ahead:
            settle_first()
        report.outcomes.sort(key=lambda o: tuple(o.required_partition().split("|")))
        assembler.finish(instance)
    meter.tick("done", force=True)
    return report
