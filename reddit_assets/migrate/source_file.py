"""One source file of an import: read, checked and staged. Pure file work with no Dagster, so
files are staged in worker processes, in parallel (see importer.import_directory).

Staging reads a file of either format (our raw files, URS subreddit scrapes), checks it,
builds its rows once (a file whose rows cannot be built is refused here, not at its load)
and writes it as a raw file `<index>.json` into the import's private staging folder.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from reddit_assets.config import is_valid_subreddit_name
from reddit_assets.dates import parse_day
from reddit_assets.files.atomic import DiskWriteError, staged_file
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

IMPORTED, REPLACED, PRESENT, BAD, CONFLICT, SKIPPED = "imported", "replaced", "present", "bad", "conflict", "skipped"
# A string that runs to the end of the text matches only the lone quote.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|"', re.S)
_URS_SIDE_FOLDERS = {"analytics", "livestream"}


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

    # A staged file's or day's outcome has its raw path, partition and SHA-256.
    def required_raw_path(self) -> Path:
        """`raw_path`, which this outcome must have."""
        if self.raw_path is None:
            raise ValueError(f"{self.source}: the outcome has no raw file path")
        return self.raw_path

    def required_partition(self) -> str:
        """`partition`, which this outcome must have."""
        if self.partition is None:
            raise ValueError(f"{self.source}: the outcome has no partition")
        return self.partition

    def required_sha256(self) -> str:
        """`sha256`, which this outcome must have."""
        if self.sha256 is None:
            raise ValueError(f"{self.source}: the outcome has no SHA-256")
        return self.sha256


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
    if kind == "subreddit" and isinstance(document, dict):  # a URS scrape is always a dict
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


@dataclass(frozen=True)
class StageContext:
    """What staging a file needs to know: picklable, so worker processes get it with each file."""

    root: Path
    data_dir: Path
    staging: Path
    tz: ZoneInfo
    today: dt.date
    configured: dict[str, str]  # the config's subreddit names, by their lower-case form


@dataclass(frozen=True)
class Staged:
    """A good file rendered into the staging folder, waiting to be placed in import order."""

    outcome: Outcome
    path: Path
    date: dt.date
    name: str  # as the file spells it
    configured: str | None  # as the config spells it, None if not configured


def stage(context: StageContext, path: Path, index: int) -> Outcome | Staged:
    """`_stage`, with any shape the checks did not foresee as this file's BAD line, so the rest
    of the folder is still imported (the error's type only: nothing of the file is quoted)."""
    try:
        return _stage(context, path, index)
    except DiskWriteError as exc:
        raise ImportDiskError(str(exc)) from None  # the disk, not the file: stop and say so
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        return Outcome(path, BAD, f"cannot be read as a scrape file ({type(exc).__name__})")


def _stage(context: StageContext, path: Path, index: int) -> Outcome | Staged:
    """Read and check one file and render it into the staging folder as `<index>.json`.

    Shares no state with other calls: files are staged in worker processes, while the
    importer places the ones staged before (see import_directory). The outcome's partition
    is left to the importer.
    """
    try:
        parsed = parse_source(path, context.root, context.tz)
    except Skipped as exc:
        return Outcome(path, SKIPPED, str(exc))
    except ImportProblem as exc:
        return Outcome(path, BAD, str(exc))
    if parsed.date > context.today:
        return Outcome(path, BAD, f"date {parsed.date} is in the future (today is {context.today})")

    # Reddit names ignore case: a file's `python` is the config's `Python`.
    configured = context.configured.get(parsed.name.lower())
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
        raw_path=raw_file_path(context.data_dir, parsed.date, name),
        submissions=len(document["submissions"]),
        comments=len(document["comments"]),
        source_format=parsed.source_format,
    )
    written = write_raw_file(context.staging / f"{index}.json", document, opener=staged_file)
    outcome.sha256, outcome.size = written.sha256, written.size
    return Staged(outcome, written.path, parsed.date, parsed.name, configured)
