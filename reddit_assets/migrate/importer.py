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
- Files are read, checked and staged (written and fsynced) on a few threads, so their
  fsyncs overlap; placing, conflicts and recording stay in file order on one thread.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import stat
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.assets.records import (
    latest_materialization_metadata_by_partition,
    report_materializations,
)
from reddit_assets.config import AppConfig, is_valid_subreddit_name
from reddit_assets.files.atomic import DiskWriteError, fsync_dir, sha256_file
from reddit_assets.files.normalize import BadItemError, normalize
from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import (
    RAW_FORMAT,
    RawFileError,
    ascii_json_text,
    size_problem,
    validate_raw_document,
    write_raw_file,
)
from reddit_assets.migrate.urs_format import (
    URS_FORMAT,
    UrsFormatError,
    convert_urs_subreddit,
    date_from_folder,
    urs_kind,
)
from reddit_assets.partitions import parse_day, partition_key

IMPORTED, REPLACED, PRESENT, BAD, CONFLICT, SKIPPED = "imported", "replaced", "present", "bad", "conflict", "skipped"
# A string that runs to the end of the text matches only the lone quote.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|"', re.S)
_URS_SIDE_FOLDERS = {"analytics", "livestream"}
# Files read, checked and staged at once (threads), and how far staging runs ahead of placing.
STAGE_THREADS = 4
STAGE_AHEAD = 16
# Materializations written in one transaction. On PostgreSQL it holds the event log's write
# lock (instance/postgres.py) about 5 s for a year of 100 subreddits; a bigger import is
# written in parts of this size so other writers never wait much longer.
RECORD_TOGETHER = 50_000


class ImportProblem(ValueError):
    """A file that cannot be imported; the message is the reason."""


class Skipped(Exception):
    """A file that is known and deliberately not imported."""


class ImportDiskError(OSError):
    """The data directory cannot be written (full, read-only); the message names the path."""


@dataclass(frozen=True)
class Parsed:
    document: dict
    source_format: str
    date: dt.date
    name: str


@dataclass
class Outcome:
    source: Path
    status: str
    reason: str = ""
    partition: str | None = None
    raw_path: Path | None = None
    submissions: int = 0
    comments: int = 0
    sha256: str | None = None
    size: int | None = None
    source_format: str | None = None
    # "recorded", "already recorded", "would be recorded", or None when the partition does not exist.
    recorded: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in (BAD, CONFLICT)


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


# -- reading one file -----------------------------------------------------------------------


def _ends_unfinished(text: str) -> bool:
    """True when the text stops inside an object, array or string: a truncated file."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token == '"':
            return True
        depth += 1 if token in "[{" else -1 if token in "]}" else 0
    return depth > 0


def _read_text(path: Path) -> tuple[str, str, int]:
    """(JSON text with non-ASCII escaped, SHA-256 of the bytes, size) of a regular file opened
    without following a symlink, within the size maximum. The escaped text is what keeps a
    big file's peak memory down (see `raw_file.ascii_json_text`)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Skipped("symbolic link: not followed, not read") from None
        raise ImportProblem(f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Skipped("not a regular file: not read")
        problem = size_problem(info.st_size)
        if problem:
            raise ImportProblem(problem)
        sha = hashlib.sha256()
        try:
            text = ascii_json_text(handle, sha)
        except UnicodeDecodeError as exc:
            raise ImportProblem(f"not JSON: not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise ImportProblem(f"cannot be read ({exc.strerror})") from None
    return text, sha.hexdigest(), info.st_size


def load_json(path: Path) -> tuple[object, str]:
    """(parsed JSON, SHA-256 of the bytes); ImportProblem says what is wrong, quoting nothing of the file."""
    text, sha256, size = _read_text(path)
    if not text.strip():
        raise ImportProblem("empty file")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        if _ends_unfinished(text):
            raise ImportProblem(f"truncated: the JSON stops inside an unfinished value after {size} bytes") from None
        raise ImportProblem(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ImportProblem("nested too deeply to be a scrape file") from None
    return parsed, sha256


def _parse_date(value: object) -> dt.date:
    try:
        return parse_day(value)
    except ValueError as exc:
        raise ImportProblem(f"date {exc}") from None


def _ours(document: dict, path: Path) -> Parsed:
    try:
        validate_raw_document(document, path)
    except RawFileError as exc:
        raise ImportProblem(exc.problem) from None
    name = document["subreddit"]
    if not is_valid_subreddit_name(name):
        raise ImportProblem(
            f"subreddit {name!r} is not a subreddit name (2 to 21 ASCII letters, digits or underscores)"
        )
    return Parsed(document, RAW_FORMAT, _parse_date(document["date"]), name)


def _folder_date(path: Path, root: Path) -> dt.date | None:
    """The nearest folder above the file, up to and including `root`, that names a date."""
    folders = list(path.relative_to(root).parent.parts)[::-1] + [root.resolve().name]
    for folder in folders:
        date = date_from_folder(folder)
        if date is not None:
            return date
    return None


def parse_source(path: Path, root: Path, tz: ZoneInfo) -> Parsed:
    """Read one file of either format; ImportProblem (bad) or Skipped (not a subreddit scrape)."""
    document, sha256 = load_json(path)
    if isinstance(document, dict) and "format" in document:
        if document["format"] != RAW_FORMAT:
            raise ImportProblem(
                f"unknown format: its 'format' tag is not {RAW_FORMAT!r} (this version reads that and URS "
                "subreddit scrapes)"
            )
        return _ours(document, path)
    kind = urs_kind(document)
    if kind == "subreddit":
        try:
            converted = convert_urs_subreddit(
                document, folder_date=_folder_date(path, root), tz=tz, source_file=path.name, source_sha256=sha256
            )
        except UrsFormatError as exc:
            raise ImportProblem(str(exc)) from None
        return Parsed(converted, URS_FORMAT, dt.date.fromisoformat(converted["date"]), converted["subreddit"])
    if kind is not None:
        raise Skipped(f"URS {kind} scrape, not a subreddit scrape: nothing to import")
    if _URS_SIDE_FOLDERS & set(path.relative_to(root).parts[:-1]):
        raise Skipped("URS analytics or livestream output, not a subreddit scrape: nothing to import")
    if isinstance(document, dict):  # its keys are not listed: a file that is not ours may hold anything
        raise ImportProblem("unknown format: no 'format' tag and not a URS subreddit scrape")
    raise ImportProblem(f"unknown format: the top level is a JSON {type(document).__name__}, not an object")


# -- placing and recording ------------------------------------------------------------------


def _hidden(rel: Path) -> bool:
    return any(p.startswith(".") for p in rel.parts)


def scan_folder(root: Path) -> tuple[list[Path], list[Outcome]]:
    """(every regular `*.json` file under root, sorted; what was found and not followed).

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
            if path.suffix.lower() != ".json" or _hidden(path.relative_to(root)):
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


def _place(staged: Path, target: Path) -> None:
    """Rename into place; the caller fsyncs the folder (once per batch) before recording it."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
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
    latest = latest_materialization_metadata_by_partition(instance, RAW_SCRAPE, [o.partition for o in outcomes])
    new = [o for o in outcomes if latest.get(o.partition, {}).get("sha256") != o.sha256]
    report_materializations(instance, [_materialization(o) for o in new], per_batch=RECORD_TOGETHER)
    written = {id(o) for o in new}
    for outcome in outcomes:
        outcome.recorded = "recorded" if id(outcome) in written else "already recorded"


@dataclass(frozen=True)
class _Staged:
    """A good file rendered into the staging folder, waiting to be placed in import order."""

    outcome: Outcome
    path: Path
    date: dt.date
    name: str  # as the file spells it
    configured: str | None  # as the config spells it, None if not configured


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
        self.report, self.config, self.data_dir, self.staging = report, config, data_dir, staging
        self.instance, self.overwrite, self.tz, self.today = instance, overwrite, tz, today
        self.configured = {name.lower(): name for name in config.names}
        self.claimed: dict[Path, Outcome] = {}
        self.to_record: list[Outcome] = []  # placed, recorded when the import finishes
        self.same_as_first: list[tuple[Outcome, Outcome]] = []  # (duplicate, the first file it repeats)
        self.unsynced: set[Path] = set()  # folders that got a file since their last fsync

    def stage(self, path: Path, index: int) -> Outcome | _Staged:
        """`_stage`, with any shape the checks did not foresee as this file's BAD line, so the rest
        of the folder is still imported (the error's type only: nothing of the file is quoted)."""
        try:
            return self._stage(path, index)
        except DiskWriteError as exc:
            raise ImportDiskError(str(exc)) from None  # the disk, not the file: stop and say so
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
            return Outcome(path, BAD, f"cannot be read as a scrape file ({type(exc).__name__})")

    def _stage(self, path: Path, index: int) -> Outcome | _Staged:
        """Read and check one file and render it into the staging folder as `<index>.json`.

        Shares no state with other calls: files are staged on worker threads, so one file's
        fsyncs overlap another's reading and checking (see import_directory).
        """
        try:
            parsed = parse_source(path, self.report.root, self.tz)
        except Skipped as exc:
            return Outcome(path, SKIPPED, str(exc))
        except ImportProblem as exc:
            return Outcome(path, BAD, str(exc))
        if parsed.date > self.today:
            return Outcome(path, BAD, f"date {parsed.date} is in the future (today is {self.today})")

        # Reddit names ignore case: a file's `python` is the config's `Python`.
        configured = self.configured.get(parsed.name.lower())
        name = configured or parsed.name
        document = dict(parsed.document, subreddit=name)
        if parsed.source_format == URS_FORMAT:
            document["settings"] = dict(document["settings"], name=name)
        try:
            normalize(document)
        except BadItemError as exc:
            return Outcome(path, BAD, f"its rows cannot be built: {exc}")

        outcome = Outcome(
            path,
            IMPORTED,
            partition=str(partition_key(parsed.date, name)),
            raw_path=raw_file_path(self.data_dir, parsed.date, name),
            submissions=len(document["submissions"]),
            comments=len(document["comments"]),
            source_format=parsed.source_format,
        )
        staged = write_raw_file(self.staging / f"{index}.json", document)
        outcome.sha256, outcome.size = staged.sha256, staged.size
        return _Staged(outcome, staged.path, parsed.date, parsed.name, configured)

    def settle(self, staged: Outcome | _Staged) -> Outcome:
        """Place a staged file (or not: present, conflict) and queue its recording; in import order."""
        if isinstance(staged, Outcome):
            return staged  # bad or skipped
        outcome, path, date = staged.outcome, staged.outcome.source, staged.date
        first = self.claimed.get(outcome.raw_path, outcome)
        try:
            placed = self._place(outcome, staged.path, first)
        except DiskWriteError as exc:
            raise ImportDiskError(str(exc)) from None  # the disk, not the file: stop and say so
        if not placed:
            staged.path.unlink()
        if outcome.failed:
            return outcome
        self.claimed.setdefault(outcome.raw_path, outcome)

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
            record_materializations(self.instance, self.to_record)
            self.to_record = []
        for duplicate, first in self.same_as_first:
            duplicate.recorded = first.recorded

    def _place(self, outcome: Outcome, staged: Path, first: Outcome) -> bool:
        """Set the outcome's status; move the staged file into place if it should be. Moved?"""
        target = outcome.raw_path
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
                    f"gives {outcome.sha256[:12]}...); not overwritten: pass --overwrite to replace it"
                )
                return False
            outcome.status = REPLACED
        if self.report.dry_run:
            return False
        _place(staged, target)
        self.unsynced.add(target.parent)
        return True


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

    `tz`: the time zone URS's local times were written in.
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
        # Files are staged on threads (their fsyncs overlap) and settled one by one in order,
        # at most STAGE_AHEAD ahead of the one being settled.
        with ThreadPoolExecutor(max_workers=STAGE_THREADS, thread_name_prefix="import-stage") as pool:
            ahead: deque[Future] = deque()
            for index, path in enumerate(files):
                ahead.append(pool.submit(importer.stage, path, index))
                if len(ahead) >= STAGE_AHEAD:
                    report.outcomes.append(importer.settle(ahead.popleft().result()))
            while ahead:
                report.outcomes.append(importer.settle(ahead.popleft().result()))
        importer.finish()
    return report
