"""Building archives fast: a large raw file deflated in blocks on a thread pool must still be
one valid deflate stream that every reader (zipfile, zlib, Info-ZIP's unzip, our restore) accepts."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from reddit_assets.files.archive_zip import (
    PARALLEL_DEFLATE_MIN_BYTES,
    _ParallelDeflate,
    build_archive,
    extract_raw,
    raw_member_name,
    verify_archive,
)
from reddit_assets.files.normalize import normalize
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets_demo.raw_documents import generated_raw_document

SYNC_MARKER = b"\x00\x00\xff\xff"  # the empty stored block a sync flush ends with


def _inflate(stream: bytes) -> bytes:
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    out = decompressor.decompress(stream) + decompressor.flush()
    assert decompressor.eof, "the stream has no final block"
    return out


@pytest.mark.parametrize("in_flight", [1, 3])
def test_parallel_deflate_blocks_form_one_stream(in_flight):
    rng = random.Random(7)
    words = [f"word{i}" for i in range(400)]
    text = " ".join(rng.choice(words) for _ in range(300_000)).encode()
    # Uneven pieces, an empty one among them, as a writer may hand them over.
    cuts = sorted({0, len(text), *(rng.randrange(len(text)) for _ in range(12))})
    pieces = [text[a:b] for a, b in zip(cuts, cuts[1:])] + [b""]
    with ThreadPoolExecutor(max_workers=2) as pool:
        deflate = _ParallelDeflate(pool, level=1, in_flight=in_flight)
        stream = b"".join(deflate.compress(memoryview(p)) for p in pieces) + deflate.flush()
        assert not deflate.pending
    assert _inflate(stream) == text
    assert stream.count(SYNC_MARKER) >= len([p for p in pieces if p])
    assert len(stream) < len(text) / 3  # primed blocks still compress like one stream


def test_parallel_deflate_of_nothing_is_an_empty_stream():
    with ThreadPoolExecutor(max_workers=1) as pool:
        deflate = _ParallelDeflate(pool, level=1, in_flight=1)
        assert deflate.compress(b"") == b""
        stream = deflate.flush()
    assert _inflate(stream) == b""


@pytest.fixture(scope="module")
def large_day(tmp_path_factory):
    """A generated subreddit-day whose raw file is large enough for the block-parallel path."""
    root = tmp_path_factory.mktemp("large-day")
    document = generated_raw_document(
        "BigDay", dt.date(2026, 11, 1), n_submissions=70, comments_per_submission=(100, 200), popular_threads=0
    )
    raw = write_raw_file(root / "scrapes" / "BigDay.json", document)
    assert raw.size > PARALLEL_DEFLATE_MIN_BYTES
    return root, raw, document, normalize(document)


def test_large_day_archive_reads_back_with_every_reader(large_day):
    root, raw, document, (submissions, comments) = large_day
    info = build_archive(raw.path, document, submissions, comments, root / "BigDay.zip")
    name = raw_member_name("BigDay")
    raw_bytes = raw.path.read_bytes()

    with zipfile.ZipFile(info.path) as zf:
        member = zf.getinfo(name)
        assert member.compress_type == zipfile.ZIP_DEFLATED
        assert zf.read(name) == raw_bytes  # zipfile checks the CRC as well
        with open(info.path, "rb") as f:
            f.seek(member.header_offset + 30 + len(name.encode()) + len(member.extra))
            stream = f.read(member.compress_size)
    assert _inflate(stream) == raw_bytes
    # Built in blocks: each ends with a sync flush (one per MiB read).
    assert stream.count(SYNC_MARKER) >= raw.size // (1 << 20)
    assert info.manifest["files"][name] == {"bytes": raw.size, "sha256": raw.sha256}
    assert info.manifest["counts"] == {"submissions": submissions.num_rows, "comments": comments.num_rows}
    assert verify_archive(info.path) == []
    restored = extract_raw(info.path, root / "restored" / "BigDay.json")
    assert restored.read_bytes() == raw_bytes

    if shutil.which("unzip"):
        tested = subprocess.run(["unzip", "-t", str(info.path)], capture_output=True, text=True)
        assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout + tested.stderr


def test_large_day_archive_is_deterministic(large_day):
    root, raw, document, (submissions, comments) = large_day
    streams = []
    for attempt in range(2):
        info = build_archive(raw.path, document, submissions, comments, root / f"again{attempt}.zip")
        with zipfile.ZipFile(info.path) as zf:
            member = zf.getinfo(raw_member_name("BigDay"))
            streams.append((member.CRC, member.compress_size))
        assert verify_archive(info.path) == []
    assert streams[0] == streams[1]
