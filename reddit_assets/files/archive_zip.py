"""Archive zips: build one from a raw file, read its manifest, verify it, restore the raw file.

Pure file work, no network. An archive holds, in this order:

- ``<subreddit>.json``   the raw file, byte for byte (deflated at RAW_DEFLATE_LEVEL; a large
  one in blocks on every core, see ``_ParallelDeflate``)
- ``submissions.parquet`` the normalized submissions (zstd inside; stored in the zip)
- ``comments.parquet``    the normalized comments (zstd inside; stored in the zip)
- ``manifest.json``       format, subreddit, date, scraped_at, counts, and the size and
  SHA-256 of every other member (deflated)

The zip is written to a temporary file, fsynced and renamed into place, so a crash
never leaves a half archive under the final name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
import zipfile
import zlib
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reddit_assets.files.atomic import BadFileError, WrittenFile, atomic_file, copy_hashing, sha256_file
from reddit_assets.files.raw_file import RawFileError, max_raw_bytes, parse_json_file_hashed

ARCHIVE_FORMAT = "reddit_assets/archive@1"
MANIFEST_NAME = "manifest.json"
SUBMISSIONS_NAME = "submissions.parquet"
COMMENTS_NAME = "comments.parquet"
PARQUET_COMPRESSION = "zstd"

_BLOCK = 1 << 20  # 1 MiB copy blocks
# Level 1 deflates a raw file 2.7x faster than the default 6 for ~18% more bytes in that member
# (measured on the bench's 84 MiB day: 0.31 s -> 12.6 MiB vs 0.84 s -> 10.7 MiB, one core).
RAW_DEFLATE_LEVEL = 1
# Below this a raw file is deflated in one piece: threads would cost more than they save.
PARALLEL_DEFLATE_MIN_BYTES = 4 << 20
_WINDOW = 32 << 10  # deflate's window: each block is primed with the 32 KiB before it


class ArchiveError(BadFileError):
    """An archive that is missing, unreadable, or whose contents do not match its manifest."""

    kind = "archive"


@dataclass(frozen=True)
class ArchiveInfo(WrittenFile):
    manifest: dict


def raw_member_name(subreddit: str) -> str:
    """The name the raw file has inside an archive: ``<subreddit>.json``."""
    return f"{subreddit}.json"


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _zip_time(scraped_at: str) -> tuple[int, int, int, int, int, int]:
    """Member timestamps come from the scrape, so the same input gives the same members."""
    try:
        when = dt.datetime.fromisoformat(scraped_at).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return (1980, 1, 1, 0, 0, 0)
    if when.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (when.year, when.month, when.day, when.hour, when.minute, when.second)


def _member(name: str, date_time, compress_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = compress_type
    info.external_attr = 0o644 << 16
    return info


def _parquet_bytes(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=PARQUET_COMPRESSION)
    return sink.getvalue()


def _deflate_block(data: bytes, primer: bytes | None, level: int) -> bytes:
    """Raw deflate of one block, ending on a byte boundary (sync flush) so blocks concatenate."""
    if primer:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=primer)
    else:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


class _ParallelDeflate:
    """A zlib compressobj look-alike that deflates blocks on a thread pool, pigz-style.

    Each block is an independent raw-deflate stream primed with the previous block's last
    32 KiB and ended with a sync flush; their concatenation plus one empty final block is
    a single valid deflate stream (zlib releases the GIL, so blocks really run in parallel).
    At most `in_flight` blocks are held at once, so memory stays bounded.
    """

    def __init__(self, pool: ThreadPoolExecutor, level: int, in_flight: int):
        self.pool, self.level, self.in_flight = pool, level, in_flight
        self.pending: deque[Future] = deque()
        self.primer: bytes | None = None

    def compress(self, data) -> bytes:
        data = bytes(data)
        if not data:
            return b""
        self.pending.append(self.pool.submit(_deflate_block, data, self.primer, self.level))
        self.primer = data[-_WINDOW:]
        out = []
        while self.pending and (len(self.pending) > self.in_flight or self.pending[0].done()):
            out.append(self.pending.popleft().result())
        return b"".join(out)

    def flush(self) -> bytes:
        out = [future.result() for future in self.pending]
        self.pending.clear()
        out.append(zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS).flush())  # the final block
        return b"".join(out)


def _write_stream(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, source, size: int, pool: ThreadPoolExecutor | None = None
) -> str:
    """Copy `source` (a binary file) into the member block by block; return its SHA-256.

    With a `pool`, a deflated member's blocks are compressed on it (see _ParallelDeflate).
    """
    info.file_size = size  # lets zipfile choose ZIP64 up front for very large members
    with zf.open(info, mode="w", force_zip64=size >= zipfile.ZIP64_LIMIT) as dest:
        # zipfile computes the CRC and sizes itself and only asks its compressor for bytes:
        # swapping that object (a private attribute, present since Python 3.6) is the one
        # way to feed it blocks deflated elsewhere. Without it, zipfile deflates alone.
        if pool is not None and info.compress_type == zipfile.ZIP_DEFLATED and hasattr(dest, "_compressor"):
            dest._compressor = _ParallelDeflate(pool, RAW_DEFLATE_LEVEL, in_flight=pool._max_workers + 1)
        return copy_hashing(source, dest)[1]


def _deflated(name: str, when) -> zipfile.ZipInfo:
    info = _member(name, when, zipfile.ZIP_DEFLATED)
    # What ZipFile.write(compresslevel=) sets; zipfile reads it on open. Private before Python
    # 3.13 (then `compress_level`, this name kept as an alias), so not in the standard library's stubs.
    info._compresslevel = RAW_DEFLATE_LEVEL  # type: ignore[attr-defined]
    return info


@contextlib.contextmanager
def _pool_for(raw_size: int):
    """Threads for a large raw file (one per core); None for a small one."""
    if raw_size < PARALLEL_DEFLATE_MIN_BYTES:
        yield None
        return
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1), thread_name_prefix="archive-deflate") as pool:
        yield pool


def build_archive(
    raw_path: Path,
    header: dict,
    submissions: pa.Table,
    comments: pa.Table,
    zip_path: Path,
    *,
    raw_name: str | None = None,
) -> ArchiveInfo:
    """Zip the raw file, Parquet copies of its rows and a manifest into `zip_path`, atomically.

    `header` holds the raw document's subreddit, date and scraped_at (the whole parsed
    document will do); `submissions` and `comments` are its normalized tables. The raw
    file is streamed, never loaded. `raw_name` names the raw file's member (default
    ``<subreddit>.json``); the manifest records it as ``raw_file``.
    """
    raw_path = Path(raw_path)
    zip_path = Path(zip_path)
    subreddit = header["subreddit"]
    date = _iso(header["date"])
    scraped_at = _iso(header["scraped_at"])
    when = _zip_time(scraped_at)
    raw_name = raw_name or raw_member_name(subreddit)

    try:
        raw_handle = open(raw_path, "rb")
    except FileNotFoundError:
        raise ArchiveError(zip_path, f"raw file {raw_path} does not exist") from None

    files: dict[str, dict] = {}
    with raw_handle, atomic_file(zip_path) as out, _pool_for(os.fstat(raw_handle.fileno()).st_size) as pool:
        # A large day's Parquet copies are written on the pool while the raw file is deflated.
        tables = {SUBMISSIONS_NAME: submissions, COMMENTS_NAME: comments}
        parquet = {name: (pool.submit(_parquet_bytes, table) if pool else None) for name, table in tables.items()}
        with zipfile.ZipFile(out, mode="w", allowZip64=True) as zf:
            raw_size = os.fstat(raw_handle.fileno()).st_size
            raw_sha = _write_stream(zf, _deflated(raw_name, when), raw_handle, raw_size, pool)
            # The size actually copied, in case the file changed while we read it.
            raw_size = zf.getinfo(raw_name).file_size
            files[raw_name] = {"bytes": raw_size, "sha256": raw_sha}

            for name, table in tables.items():
                future = parquet[name]
                data = future.result() if future else _parquet_bytes(table)
                view = memoryview(data).cast("B")
                zf.writestr(_member(name, when, zipfile.ZIP_STORED), view)
                files[name] = {"bytes": data.size, "sha256": hashlib.sha256(view).hexdigest()}

            manifest = {
                "format": ARCHIVE_FORMAT,
                "subreddit": subreddit,
                "date": date,
                "scraped_at": scraped_at,
                "counts": {"submissions": submissions.num_rows, "comments": comments.num_rows},
                "raw_file": raw_name,
                "files": files,
                "created_at": dt.datetime.now(dt.UTC).isoformat(),
            }
            zf.writestr(
                _member(MANIFEST_NAME, when, zipfile.ZIP_DEFLATED),
                json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
            )
    return ArchiveInfo(path=zip_path, size=zip_path.stat().st_size, sha256=sha256_file(zip_path), manifest=manifest)


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise ArchiveError(zip_path, "does not exist") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(zip_path, f"not a readable zip file ({exc})") from None


def _manifest_of(zf: zipfile.ZipFile, zip_path: Path) -> dict:
    try:
        data = zf.read(MANIFEST_NAME)
    except KeyError:
        raise ArchiveError(zip_path, f"has no {MANIFEST_NAME}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(zip_path, f"{MANIFEST_NAME} is corrupted ({exc})") from None
    try:
        manifest = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArchiveError(zip_path, f"{MANIFEST_NAME} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ArchiveError(zip_path, f"manifest format is {found!r}, expected {ARCHIVE_FORMAT!r}")
    if not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("counts"), dict):
        raise ArchiveError(zip_path, "manifest lacks 'files' or 'counts'")
    return manifest


def read_manifest(zip_path: Path) -> dict:
    """The archive's manifest; ArchiveError if the zip or its manifest is unreadable."""
    zip_path = Path(zip_path)
    with _open_zip(zip_path) as zf:
        return _manifest_of(zf, zip_path)


def member_problems(zf: zipfile.ZipFile) -> list[str]:
    """Members that make the zip ambiguous or unsafe to read: repeated names, symlinks, folders."""
    problems = [f"member name {name!r} occurs {n} times" for name, n in Counter(zf.namelist()).items() if n > 1]
    for info in zf.infolist():
        mode = info.external_attr >> 16
        if info.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: no type recorded, as we write
            problems.append(f"member {info.filename!r} is not a regular file")
    return problems


def _expected_size(expected: object, name: str, cap: int) -> tuple[int, str]:
    """(bytes, sha256) a manifest entry promises; ArchiveError-worthy text if it is not a sane entry."""
    if not isinstance(expected, dict):
        raise ValueError(f"manifest entry for {name} is not an object")
    size, sha = expected.get("bytes"), expected.get("sha256")
    if type(size) is not int or size < 0 or not isinstance(sha, str):
        raise ValueError(f"manifest entry for {name} lacks a byte count or SHA-256")
    if size > cap:
        raise ValueError(f"manifest says {name} has {size} bytes, over the {cap}-byte maximum; not read")
    return size, sha


def _copy_capped(src, dest, limit: int, name: str) -> tuple[int, str]:
    """Copy at most `limit` bytes; ValueError at the first byte past it (a zip bomb stops there)."""
    sha = hashlib.sha256()
    size = 0
    while block := src.read(min(_BLOCK, limit - size + 1)):
        size += len(block)
        if size > limit:
            raise ValueError(f"member {name} holds more than the {limit} bytes its manifest lists; stopped there")
        sha.update(block)
        if dest is not None:
            dest.write(block)
    return size, sha.hexdigest()


def _check_member(zf: zipfile.ZipFile, name: str, expected: object, manifest: dict, problems: list[str]) -> None:
    counts_by_member = {SUBMISSIONS_NAME: "submissions", COMMENTS_NAME: "comments"}
    try:
        want_size, want_sha = _expected_size(expected, name, max_raw_bytes())
        with zf.open(name) as src:
            size, sha = _copy_capped(src, None, want_size, name)
    except ValueError as exc:
        problems.append(str(exc))
        return
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile, zlib.error) as exc:
        problems.append(f"member {name} is corrupted ({exc})")
        return
    if size != want_size:
        problems.append(f"member {name} has {size} bytes, manifest says {want_size}")
    if sha != want_sha:
        problems.append(f"member {name} SHA-256 {sha} does not match manifest {want_sha}")
    if name in counts_by_member:
        what = counts_by_member[name]
        try:
            with zf.open(name) as src:  # the footer only: seeks, never holds the member
                rows = pq.read_metadata(src).num_rows
        except (pa.ArrowException, OSError, ValueError, zipfile.BadZipFile) as exc:
            problems.append(f"member {name} is not readable Parquet ({exc})")
            return
        if rows != manifest["counts"].get(what):
            problems.append(f"member {name} holds {rows} rows, manifest counts {manifest['counts'].get(what)} {what}")


def verify_archive(zip_path: Path) -> list[str]:
    """Problems found in the archive; an empty list means it is good.

    Checks that member names are unique regular files, every member's size and SHA-256
    against the manifest (reading stops at the first byte past the listed size), that no
    member is missing or unlisted, and that the manifest's counts match the Parquet row
    counts (read from each Parquet footer, never the whole member).
    """
    zip_path = Path(zip_path)
    try:
        zf = _open_zip(zip_path)
    except ArchiveError as exc:
        return [str(exc)]
    with zf:
        try:
            manifest = _manifest_of(zf, zip_path)
        except ArchiveError as exc:
            return [str(exc)]
        problems = member_problems(zf)
        if problems:
            return problems
        listed = manifest["files"]
        present = [n for n in zf.namelist() if n != MANIFEST_NAME]
        problems.extend(f"member {name} is not listed in the manifest" for name in present if name not in listed)
        for name, expected in listed.items():
            if name not in present:
                problems.append(f"member {name} listed in the manifest is missing")
            else:
                _check_member(zf, name, expected, manifest, problems)
        problems.extend(
            f"manifest does not list {name}" for name in (SUBMISSIONS_NAME, COMMENTS_NAME) if name not in listed
        )
    return problems


def _partition_of(document: dict) -> str:
    return f"{document.get('date')}|{document.get('subreddit')}"


def extract_raw(zip_path: Path, dest_path: Path, *, partition: tuple[str, str] | None = None) -> Path:
    """Restore the raw file from the archive to `dest_path`, atomically, after checking it.

    The zip's members must be unique regular files; the raw member is size-checked while it
    is extracted (stopping at the first byte past the manifest's size, which must itself be
    under the raw file maximum) and its SHA-256 compared. With `partition` (date, subreddit)
    the manifest and the raw file itself must both be of that partition. Anything wrong
    raises ArchiveError and nothing is placed.
    """
    zip_path = Path(zip_path)
    dest_path = Path(dest_path)
    with _open_zip(zip_path) as zf:
        manifest = _manifest_of(zf, zip_path)
        problems = member_problems(zf)
        if problems:
            raise ArchiveError(zip_path, "; ".join(problems) + "; not restored")
        wanted = f"{partition[0]}|{partition[1]}" if partition else None
        if wanted and _partition_of(manifest) != wanted:
            raise ArchiveError(
                zip_path, f"its manifest is of partition {_partition_of(manifest)}, not {wanted}; not restored"
            )
        listed = manifest.get("raw_file")  # untrusted: only a string names a member
        name = listed if isinstance(listed, str) else raw_member_name(str(manifest.get("subreddit", "")))
        expected = manifest["files"].get(name)
        if expected is None:
            raise ArchiveError(zip_path, f"manifest does not list the raw file {name}")
        try:
            size_limit, want_sha = _expected_size(expected, name, max_raw_bytes())
        except ValueError as exc:
            raise ArchiveError(zip_path, f"{exc}; not restored") from None
        with atomic_file(dest_path) as out:
            try:
                with zf.open(name) as src:
                    size, sha = _copy_capped(src, out, size_limit, name)
            except KeyError:
                raise ArchiveError(zip_path, f"raw file {name} is missing from the zip") from None
            except ValueError as exc:
                raise ArchiveError(zip_path, f"{exc}; not restored") from None
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise ArchiveError(zip_path, f"raw file {name} is corrupted ({exc})") from None
            if sha != want_sha or size != size_limit:
                raise ArchiveError(
                    zip_path,
                    f"raw file {name} does not match the manifest "
                    f"(SHA-256 {sha}, {size} bytes; manifest {want_sha}, {size_limit} bytes); not restored",
                )
            if wanted:
                out.flush()
                _check_inside(Path(out.name), zip_path, name, wanted)
    return dest_path


def _check_inside(extracted: Path, zip_path: Path, name: str, wanted: str) -> None:
    """The extracted file (the raw file, or a second pass) must itself be of the wanted partition
    (a manifest can be forged too)."""
    try:
        document, _ = parse_json_file_hashed(extracted)
    except RawFileError as exc:
        raise ArchiveError(zip_path, f"raw file {name} is not a raw file ({exc.problem}); not restored") from None
    if not isinstance(document, dict):
        raise ArchiveError(zip_path, f"raw file {name} is not a JSON object; not restored")
    if _partition_of(document) != wanted:
        raise ArchiveError(
            zip_path, f"raw file {name} is of partition {_partition_of(document)}, not {wanted}; not restored"
        )


__all__ = [
    "ARCHIVE_FORMAT",
    "ArchiveError",
    "ArchiveInfo",
    "build_archive",
    "extract_raw",
    "raw_member_name",
    "read_manifest",
    "verify_archive",
]
