"""Files that appear whole or not at all.

Everything the project writes for keeps (raw files, archives, stored and restored objects)
goes through `atomic_file`: a temporary file next to the destination, fsynced and renamed
into place, then the folder fsynced. A crash leaves the old file or the new one, never a
half file; the temporary files of writers that were killed are removed by the next write.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_BLOCK = 1 << 20  # 1 MiB copy and hash blocks


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
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            sha.update(block)
    return sha.hexdigest()


def copy_hashing(src, dst) -> tuple[int, str]:
    """Copy binary `src` to `dst` block by block; (bytes copied, their SHA-256)."""
    sha = hashlib.sha256()
    size = 0
    for block in iter(lambda: src.read(_BLOCK), b""):
        sha.update(block)
        size += len(block)
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


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete `.<name>.<pid>[.<tag>].tmp` files next to `path` whose writing process is gone.

    A writer killed outright (SIGKILL, OOM) cannot clean up its temporary file. Only files
    of dead processes on this machine are removed, so a live writer's file is never touched.
    """
    removed = []
    prefix = f".{path.name}."
    for tmp in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid_text = tmp.name[len(prefix) : -len(".tmp")].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _pid_alive(int(pid_text)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_file(dest: Path, *, unique: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary handle on a temporary file next to `dest`; on success fsync it, rename
    it to `dest` and fsync the folder. On any failure the temporary file is deleted.

    The temporary file is `.<name>.<pid>.<8 hex>.tmp`, or `.<name>.<pid>.tmp` with
    `unique=False` (one writer of `dest` per process at a time, as raw files are written).
    `handle.name` is its path, for a caller that checks what was written before the rename.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(dest)
    tag = f".{uuid.uuid4().hex[:8]}" if unique else ""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}{tag}.tmp")
    try:
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)
