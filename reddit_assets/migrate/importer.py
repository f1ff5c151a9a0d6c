"""Importing scrape files left by the old system: raw files placed, materializations recorded.

Every `*.json` under a folder is read: our raw files (`reddit_assets/raw-scrape@1`, in any
place) and URS subreddit scrapes (see `urs_format`). Each good one becomes
`<data_dir>/scrapes/<date>/<subreddit>.json` and a runless `reddit/raw_scrape`
materialization of its partition, which the automation sensor follows to load and
archive it without a Reddit request.

- An existing raw file is never replaced by different content unless `overwrite`;
  identical content is "already present" (and is still recorded if it was not yet).
- A subreddit not in the config file, or a date before `start_date`, has no partition
  yet. Its file is placed but NOT recorded: Dagster would store the event, but the
  automation sensor never acts on an event older than the partition, so the load would
  silently never happen. Re-running the import after configuring it records it then.
- Each bad file is reported with its reason; the good ones are imported regardless.
- Materializations are recorded at the end, once every placed file's folder is fsynced,
  in one transaction (looked up in batches first): the automation sensor sees a whole
  import at once, so a year of 100 subreddits (36,500 files) becomes one backfill, not one
  per sensor tick of a three-minute import. If the import stops before, its placed files
  are recorded by running it again: they are then "already present" and not yet recorded.
- Files are read, checked and staged (written and fsynced) by workers (`source_file`): one
  process per core for a big import, threads for a small one; placing, conflicts and
  recording stay in file order in the calling thread.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import tempfile
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from reddit_assets.assets.checks import record_import_checks
from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.assets.records import (
    latest_materialization_metadata_by_partition,
    report_materializations,
)
from reddit_assets.config import AppConfig
from reddit_assets.files.atomic import DiskWriteError, fsync_dir, sha256_file
from reddit_assets.migrate.source_file import (
    CONFLICT,
    PRESENT,
    REPLACED,
    SKIPPED,
    ImportDiskError,
    Outcome,
    StageContext,
    Staged,
    stage,
)
from reddit_assets.partitions import partition_key

# From this many files on, they are staged in worker processes, one per core (reading, checking
# and rendering a small raw file is ~2 ms of Python: threads share one core for it); fewer are
# staged on threads, which start at once. How far staging runs ahead of placing.
PROCESS_MIN_FILES = 200
STAGE_THREADS = 4
STAGE_AHEAD = 16
# Materializations written in one transaction. On PostgreSQL it holds the event log's write
# lock (instance/postgres.py) about 5 s for a year of 100 subreddits; a bigger import is
# written in parts of this size so other writers never wait much longer.
RECORD_TOGETHER = 50_000


@dataclass
class ImportReport:
    root: Path
    dry_run: bool
    start_date: dt.date
    outcomes: list[Outcome] = field(default_factory=list)
    unconfigured: dict[str, list[Path]] = field(default_factory=dict)
    before_start: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


# -- placing and recording ------------------------------------------------------------------


def _hidden(rel: Path) -> bool:
    return any(p.startswith(".") for p in rel.parts)


def scan_folder(root: Path, suffix: str = ".json") -> tuple[list[Path], list[Outcome]]:
    """(every regular `*<suffix>` file under root, sorted; what was found and not followed).

    Symbolic links (to files or folders) are reported and never followed, so nothing outside
    `root` is read; hidden files and folders are left out.
    """
    found, refused = [], []
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in list(dirnames):
            path = here / name
            if path.is_symlink() and not _hidden(path.relative_to(root)):
                refused.append(Outcome(path, SKIPPED, "symbolic link to a folder: not followed"))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
        for name in filenames:
            path = here / name
            if path.suffix.lower() != suffix or _hidden(path.relative_to(root)):
                continue
            if path.is_symlink():
                refused.append(Outcome(path, SKIPPED, "symbolic link: not followed, not read"))
            else:
                found.append(path)
    return sorted(found), sorted(refused, key=lambda o: o.source)


@contextmanager
def _staging(data_dir: Path, dry_run: bool):
    """Where documents are rendered before they are compared and moved into place."""
    if dry_run:
        with tempfile.TemporaryDirectory(prefix="reddit-assets-import-") as tmp:
            yield Path(tmp)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        prefix=".import-staging-", dir=data_dir
    ) as tmp:  # same file system: rename is atomic
        yield Path(tmp)


def _place(staged: Path, target: Path, folders: set[Path]) -> None:
    """Rename into place (making its folder unless in `folders`, the ones made or seen before);
    the caller fsyncs the folder before recording it."""
    try:
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        os.replace(staged, target)
    except OSError as exc:
        raise DiskWriteError(target, exc) from None


def _materialization(outcome: Outcome) -> dg.AssetMaterialization:
    return dg.AssetMaterialization(
        asset_key=RAW_SCRAPE,
        partition=outcome.partition,
        description=f"imported by `reddit-assets import` from {outcome.source.name}",
        metadata={
            "imported_from": str(outcome.source.resolve()),
            "source_format": outcome.source_format,
            "submissions": outcome.submissions,
            "comments": outcome.comments,
            "sha256": outcome.sha256,
            "bytes": outcome.size,
            "path": dg.MetadataValue.path(str(outcome.raw_path)),
        },
    )


def record_materializations(instance: dg.DagsterInstance, outcomes: list[Outcome]) -> None:
    """A runless reddit/raw_scrape materialization for each outcome's partition, unless its
    latest one already has this SHA-256; sets each outcome's `recorded`.

    Looked up in batches (records.BATCH_SIZE per query) and written in one transaction per
    RECORD_TOGETHER outcomes.
    """
    partitions = [o.required_partition() for o in outcomes]
    latest = latest_materialization_metadata_by_partition(instance, RAW_SCRAPE, partitions)
    new = [o for o, p in zip(outcomes, partitions) if latest.get(p, {}).get("sha256") != o.sha256]
    report_materializations(instance, [_materialization(o) for o in new], per_batch=RECORD_TOGETHER)
    record_import_checks(
        instance, {o.required_partition(): (o.submissions, o.comments, o.required_sha256()) for o in new}
    )
    written = {id(o) for o in new}
    for outcome in outcomes:
        outcome.recorded = "recorded" if id(outcome) in written else "already recorded"


class _Importer:
    def __init__(
        self,
        report: ImportReport,
        config: AppConfig,
        data_dir: Path,
        staging: Path,
        *,
        instance: dg.DagsterInstance | None,
        overwrite: bool,
        tz: ZoneInfo,
        today: dt.date,
    ):
        self.report, self.config, self.instance, self.overwrite = report, config, instance, overwrite
        self.context = StageContext(
            root=report.root,
            data_dir=data_dir,
            staging=staging,
            tz=tz,
            today=today,
            configured={name.lower(): name for name in config.names},
        )
        self.claimed: dict[Path, Outcome] = {}
        self.to_record: list[Outcome] = []  # placed, recorded when the import finishes
        self.same_as_first: list[tuple[Outcome, Outcome]] = []  # (duplicate, the first file it repeats)
        self.unsynced: set[Path] = set()  # folders that got a file since their last fsync
        self.folders: set[Path] = set()  # folders known to exist: one mkdir each, not one per file

    def settle(self, staged: Outcome | Staged) -> Outcome:
        """Place a staged file (or not: present, conflict) and queue its recording; in import order."""
        if isinstance(staged, Outcome):
            return staged  # bad or skipped
        outcome, path, date = staged.outcome, staged.outcome.source, staged.date
        outcome.partition = str(partition_key(date, staged.configured or staged.name))
        first = self.claimed.get(outcome.required_raw_path(), outcome)
        try:
            placed = self._place(outcome, staged.path, first)
        except DiskWriteError as exc:
            raise ImportDiskError(str(exc)) from None  # the disk, not the file: stop and say so
        if not placed:
            staged.path.unlink()
        if outcome.failed:
            return outcome
        self.claimed.setdefault(outcome.required_raw_path(), outcome)

        if staged.configured is None:
            self.report.unconfigured.setdefault(staged.name, []).append(path)
        elif date < self.config.start_date:
            self.report.before_start.append(path)
        elif first is not outcome:
            self.same_as_first.append((outcome, first))  # the first file with this content records it
        elif self.report.dry_run:
            outcome.recorded = "would be recorded"
        else:
            self.to_record.append(outcome)
        return outcome

    def sync(self) -> None:
        """fsync every folder that got a file (and its parent, which may have got the folder)."""
        for folder in sorted(self.unsynced | {f.parent for f in self.unsynced}):
            fsync_dir(folder)
        self.unsynced.clear()

    def finish(self) -> None:
        """Record every placed file, once their renames are durable."""
        self.sync()
        if self.to_record:
            if self.instance is None:  # only a dry run has none, and it records nothing
                raise ValueError("recording an import needs the Dagster instance")
            record_materializations(self.instance, self.to_record)
            self.to_record = []
        for duplicate, first in self.same_as_first:
            duplicate.recorded = first.recorded

    def _place(self, outcome: Outcome, staged: Path, first: Outcome) -> bool:
        """Set the outcome's status; move the staged file into place if it should be. Moved?"""
        target = outcome.required_raw_path()
        if first is not outcome:
            if first.sha256 == outcome.sha256:
                outcome.status, outcome.reason = PRESENT, f"same content as {first.source}"
            else:
                outcome.status = CONFLICT
                outcome.reason = (
                    f"{first.source} in this import gives partition {outcome.partition} different "
                    "content; not imported (keep one of the two)"
                )
            return False
        if target.exists():
            existing = sha256_file(target)
            if existing == outcome.sha256:
                outcome.status, outcome.reason = PRESENT, "already present"
                return False
            if not self.overwrite:
                outcome.status = CONFLICT
                outcome.reason = (
                    f"a different raw file is already at {target} (SHA-256 {existing[:12]}..., this file "
                    f"gives {outcome.required_sha256()[:12]}...); not overwritten: pass --overwrite to replace it"
                )
                return False
            outcome.status = REPLACED
        if self.report.dry_run:
            return False
        _place(staged, target, self.folders)
        self.unsynced.add(target.parent)
        return True


def _stage_workers(files: int) -> ProcessPoolExecutor | ThreadPoolExecutor:
    """Processes for a big import; threads (their fsyncs overlap, nothing to start) for a small one."""
    if files < PROCESS_MIN_FILES:
        return ThreadPoolExecutor(max_workers=STAGE_THREADS, thread_name_prefix="import-stage")
    # spawn, not fork: the importer's process may hold threads and connections (the instance's),
    # which a forked child must not inherit. A worker imports source_file only: no Dagster.
    return ProcessPoolExecutor(max_workers=max(2, os.cpu_count() or 1), mp_context=multiprocessing.get_context("spawn"))


def import_directory(
    root: str | os.PathLike,
    *,
    config: AppConfig,
    data_dir: str | os.PathLike,
    instance: dg.DagsterInstance | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
    tz: ZoneInfo = ZoneInfo("UTC"),
    today: dt.date | None = None,
) -> ImportReport:
    """Import every scrape file under `root` into `data_dir`, recording materializations in
    `instance` (not needed with `dry_run`, which writes and records nothing).

    `tz`: the time zone URS's local times were written in. From PROCESS_MIN_FILES files on, the
    files are staged in spawned processes, which import the caller's main module: a script that
    calls this must do so under `if __name__ == "__main__":`, as multiprocessing requires.
    """
    if instance is None and not dry_run:
        raise ValueError("an import that is not a dry run needs the Dagster instance")
    root, data_dir = Path(root), Path(data_dir)
    today = today or dt.datetime.now(ZoneInfo(config.schedule.timezone)).date()
    report = ImportReport(root=root, dry_run=dry_run, start_date=config.start_date)
    files, refused = scan_folder(root)  # listed before the staging folder exists, in case root holds data_dir
    report.outcomes.extend(refused)
    with _staging(data_dir, dry_run) as staging:
        importer = _Importer(
            report, config, data_dir, staging, instance=instance, overwrite=overwrite, tz=tz, today=today
        )
        # Files are staged by workers and settled one by one in order, at most STAGE_AHEAD ahead
        # of the one being settled.
        with _stage_workers(len(files)) as pool:
            ahead: deque[Future] = deque()
            for index, path in enumerate(files):
                ahead.append(pool.submit(stage, importer.context, path, index))
                if len(ahead) >= STAGE_AHEAD:
                    report.outcomes.append(importer.settle(ahead.popleft().result()))
            while ahead:
                report.outcomes.append(importer.settle(ahead.popleft().result()))
        importer.finish()
    return report
