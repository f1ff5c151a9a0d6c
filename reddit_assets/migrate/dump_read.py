"""Reading one dump file in one pass: its lines, the SHA-256 of its compressed bytes, and where
its zstd stream stops if it is truncated or corrupt. Memory stays independent of the file's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

from reddit_assets.migrate.dump_format import MAX_WINDOW

READ_BLOCK = 1 << 18  # compressed bytes per read: ~2-3 MB of NDJSON out at the dumps' ratios


class StreamCut(Exception):
    """The zstd stream stops before its end (truncated) or cannot be decoded (corrupt)."""

    def __init__(self, offset: int, problem: str, where: str = "at"):
        super().__init__(f"{problem} {where} compressed byte {offset}")
        self.offset, self.problem, self.where = offset, problem, where


class DumpStream:
    """The decompressed lines of one dump, hashing the compressed bytes as they are read.

    After iterating `chunks()`: `sha256` and `size` cover the whole file (also after a cut),
    `decompressed` counts the bytes decoded, and `cut` is the StreamCut or None. A line cut
    off by the end of a truncated stream is not yielded: `partial_line` says whether there
    was one.
    """

    def __init__(self, handle: BinaryIO):
        self._handle = handle
        self._sha = hashlib.sha256()
        self.size = 0
        self.decompressed = 0
        self.cut: StreamCut | None = None
        self.partial_line = False

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def _read(self) -> bytes:
        chunk = self._handle.read(READ_BLOCK)
        self._sha.update(chunk)
        self.size += len(chunk)
        return chunk

    def _blocks(self) -> Iterator[bytes]:
        context = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
        frame = context.decompressobj()
        started = False  # a frame has begun and not yet ended
        while chunk := self._read():
            while chunk:
                if frame.eof:  # concatenated frames: the next one starts here
                    frame = context.decompressobj()
                try:
                    out = frame.decompress(chunk)
                except zstandard.ZstdError as exc:
                    # the offset where the bytes it could not decode begin (a frame's start, or a read's)
                    raise StreamCut(self.size - len(chunk), f"corrupt zstd data ({exc})", "from") from None
                started = not frame.eof
                chunk = frame.unused_data if frame.eof else b""
                if out:
                    self.decompressed += len(out)
                    yield out
        if started or self.size == 0:
            raise StreamCut(self.size, "the zstd stream ends inside a frame (truncated)" if self.size else "empty file")

    def chunks(self, size: int) -> Iterator[bytes]:
        """The decompressed text in pieces of about `size` bytes, each made of whole lines joined by
        newlines (none at the end): a line is never split across pieces, nor looked at here."""
        # Pieces of whole lines, the last one ending with its newline; views of the decoded blocks,
        # so a chunk's bytes are copied once, when it is joined (without its last newline).
        parts: list[bytes | memoryview] = []
        held = 0
        pending = b""  # the start of a line whose end has not been decoded yet
        try:
            for block in self._blocks():
                end = block.rfind(b"\n")
                if end < 0:
                    pending += block
                    continue
                if pending:
                    parts.append(pending)
                parts.append(memoryview(block)[: end + 1])
                held += len(pending) + end + 1
                pending = block[end + 1 :]
                if held >= size:
                    yield _joined(parts)
                    parts, held = [], 0
        except StreamCut as cut:
            self.cut = cut
            self.partial_line = bool(pending.strip())
            if parts:
                yield _joined(parts)
            while self._read():  # the rest still counts in the file's SHA-256
                pass
            return
        text = b"".join(parts) + pending  # a last line without a newline is complete when the stream is
        if text.strip():
            yield text[:-1] if text.endswith(b"\n") else text


def _joined(parts: list[bytes | memoryview]) -> bytes:
    """The pieces as one bytes, without the newline that ends the last one."""
    parts[-1] = memoryview(parts[-1])[:-1]
    return b"".join(parts)
