"""Files that appear whole or not at all.

Everything the project writes for keeps (raw files, archives, stored and restored objects)
goes through `atomic_file`: a temporary file next to the destination, fsynced and renamed
into place, then the folder fsynced. A crash leaves the old file or the new one, never a
half file; the temporary files of writers that were killed are removed by a later write.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_BLOCK = 1 << 20  # 1 MiB copy and hash blocks
# A temporary file not written for this long is a dead writer's, whichever host wrote it: every
# writer streams its file, so a live one touches it far more often than that.
STALE_TEMP_SECONDS = 6 * 3600


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    size: int
    sha256: str


class BadFileError(ValueError):
    """A file that is missing, unreadable or not what it should be; names the file and the problem."""

    kind = "file"  # how the message names the file: "raw file", "archive"

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"{self.kind} {path}: {problem}")
        self.path = str(path)
        self.problem = problem


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return copy_hashing(handle)[1]


def copy_hashing(src, dst=None) -> tuple[int, str]:
    """Copy binary `src` to `dst` block by block (without `dst`, only read it);
    (bytes read, their SHA-256)."""
    sha = hashlib.sha256()
    size = 0
    for block in iter(lambda: src.read(_BLOCK), b""):
        sha.update(block)
        size += len(block)
        if dst is not None:
            dst.write(block)
    return size, sha.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def host_id() -> str:
    """This machine's or pod's name as temporary file names carry it (a pod's hostname is its own).

    PIDs repeat across hosts and across pods sharing a volume, so a PID alone never says whose
    temporary file it is.
    """
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:63] or "host"


class DiskWriteError(OSError):
    """Writing a file failed at the operating system (disk full, read-only, permissions); names the path."""

    def __init__(self, path: Path, exc: OSError):
        super().__init__(exc.errno, f"cannot write {path}: {exc.strerror or exc}")
        self.path = str(path)

    def __str__(self) -> str:
        return str(self.strerror)  # always the message given above

    def __reduce__(self):  # picklable as itself: raised in a worker process, it reaches the caller whole
        return _disk_write_error, (self.path, self.errno, self.strerror)


def _disk_write_error(path: str, errno: int, message: str) -> DiskWriteError:
    error = DiskWriteError.__new__(DiskWriteError)
    OSError.__init__(error, errno, message)
    error.path = path
    return error


def _writer_of(tmp_name: str, prefix: str) -> tuple[str | None, int | None]:
    """(host, pid) from `.<name>.<host>.<pid>.<token>.tmp`; (None, None) for any other shape."""
    parts = tmp_name[len(prefix) : -len(".tmp")].split(".")
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1])
    return None, None


def remove_stale_temps(path: Path, *, now: float | None = None) -> list[Path]:
    """Delete the temporary files of writers of `path` that are gone.

    A writer killed outright (SIGKILL, OOM) cannot clean up its temporary file. One written
    on this host by a process that no longer exists is removed at once; any other (another
    host or pod on a shared volume, or a name of an older version) only when it has not been
    written for STALE_TEMP_SECONDS, since its writer may be alive elsewhere.
    """
    now = time.time() if now is None else now
    removed = []
    prefix = f".{path.name}."
    here = host_id()
    for tmp in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        host, pid = _writer_of(tmp.name, prefix)
        try:
            info = tmp.lstat()
        except FileNotFoundError:
            continue
        if pid == os.getpid() and host == here:
            continue
        dead_here = host == here and pid is not None and not _pid_alive(pid)
        if dead_here or now - info.st_mtime > STALE_TEMP_SECONDS:
            tmp.unlink(missing_ok=True)  # a symlink planted here is removed, never followed
            removed.append(tmp)
    return removed


# A new file only: never one that exists, never through a symlink.
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _create_exclusive(dest: Path) -> tuple[Path, int]:
    """A new temporary file next to `dest` under an unpredictable name, never through a symlink."""
    while True:
        tmp = dest.with_name(f".{dest.name}.{host_id()}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
        try:
            return tmp, os.open(tmp, _NEW_FILE, 0o644)
        except FileExistsError:  # 64 random bits: only a planted file gets here
            continue
        except OSError as exc:
            raise DiskWriteError(tmp, exc) from None


class _TempWriter(io.BufferedWriter):
    """The temporary file's handle: its own write failures name the destination (DiskWriteError).

    Only this handle's writes are translated: an OSError from whatever the caller reads (a
    network stream, a source file) stays what it is, so a passing fault is never taken for a
    full disk.
    """

    def __init__(self, raw: io.FileIO, dest: Path):
        super().__init__(raw)
        self.dest = dest

    def write(self, data) -> int:
        try:
            return super().write(data)
        except OSError as exc:
            raise DiskWriteError(self.dest, exc) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            raise DiskWriteError(self.dest, exc) from None

    def sync(self) -> None:
        """Flush and fsync: the bytes are on the disk."""
        self.flush()
        try:
            os.fsync(self.fileno())
        except OSError as exc:
            raise DiskWriteError(self.dest, exc) from None


@contextlib.contextmanager
def _synced(fd: int, path: Path, dest: Path) -> Iterator[BinaryIO]:
    """A handle on the new file `fd` at `path` (written for `dest`, which its errors name); on
    success flushed and fsynced, on any failure closed and `path` deleted."""
    try:
        raw = io.FileIO(fd, "wb", closefd=True)
        raw.name = str(path)  # `handle.name` is the file's path, as open() would give it
        with _TempWriter(raw, dest) as handle:
            yield handle
            handle.sync()
    except BaseException:
        path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def staged_file(dest: Path) -> Iterator[BinaryIO]:
    """Yield a binary handle on `dest`, a new file (O_EXCL, never through a symlink); on success
    fsync it, on any failure delete it.

    Not atomic under its own name: only for a private folder no one else reads (an import's
    staging folder), whose files are renamed into place afterwards. That rename is what makes
    the final name atomic; the temporary name, the stale-temporary sweep and the folder fsync
    of `atomic_file` would buy nothing here (they were 40% of staging a small raw file).
    """
    try:
        fd = os.open(dest, _NEW_FILE, 0o644)
    except OSError as exc:
        raise DiskWriteError(dest, exc) from None
    with _synced(fd, dest, dest) as handle:
        yield handle


@contextlib.contextmanager
def atomic_file(dest: Path) -> Iterator[BinaryIO]:
    """Yield a binary handle on a temporary file next to `dest`; on success fsync it, rename
    it to `dest` and fsync the folder. On any failure the temporary file is deleted.

    The temporary file is `.<name>.<host>.<pid>.<16 random hex>.tmp`, created with O_EXCL and
    O_NOFOLLOW, so a file or symlink planted under a guessed name is never written through.
    `handle.name` is its path, for a caller that checks what was written before the rename.
    Operating-system failures of this file (disk full, read-only folder) raise DiskWriteError
    naming the path.
    """
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DiskWriteError(dest.parent, exc) from None
    remove_stale_temps(dest)
    tmp, fd = _create_exclusive(dest)
    with _synced(fd, tmp, dest) as handle:
        yield handle
    try:
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DiskWriteError(dest, exc) from None
    fsync_dir(dest.parent)
