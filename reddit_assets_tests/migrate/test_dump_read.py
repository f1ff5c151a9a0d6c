"""DumpStream.chunks: whole lines in order whatever the decoded blocks' boundaries, also when
the stream is cut."""

from __future__ import annotations

import io

import zstandard

from reddit_assets.migrate import dump_read
from reddit_assets.migrate.dump_read import DumpStream

LINES = [f'{{"id": "a{n}", "body": "{"x" * (n % 37)}"}}'.encode() for n in range(400)]


def _compressed() -> bytes:
    """The lines as one frame of many small zstd blocks, each ending mid-line: decoded piece by piece."""
    params = zstandard.ZstdCompressionParameters.from_level(1, window_log=20)
    frame = zstandard.ZstdCompressor(compression_params=params).compressobj()
    text = b"\n".join(LINES) + b"\n"
    out = [
        frame.compress(text[i : i + 50]) + frame.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        for i in range(0, len(text), 50)
    ]
    return b"".join(out) + frame.flush()


def _chunks(data: bytes, size: int) -> tuple[list[bytes], DumpStream]:
    stream = DumpStream(io.BytesIO(data))
    return list(stream.chunks(size)), stream


def test_chunks_are_whole_lines_across_small_blocks(monkeypatch):
    monkeypatch.setattr(dump_read, "READ_BLOCK", 7)  # many small decoded blocks, lines split across them
    chunks, stream = _chunks(_compressed(), 100)
    assert len(chunks) > 10 and stream.cut is None
    assert [line for chunk in chunks for line in chunk.split(b"\n")] == LINES


def test_a_cut_stream_yields_the_whole_lines_before_it(monkeypatch):
    monkeypatch.setattr(dump_read, "READ_BLOCK", 7)
    data = _compressed()
    chunks, stream = _chunks(data[: len(data) * 2 // 3], 100)
    lines = [line for chunk in chunks for line in chunk.split(b"\n")]
    assert stream.cut is not None and 0 < len(lines) < len(LINES)
    assert lines == LINES[: len(lines)]
