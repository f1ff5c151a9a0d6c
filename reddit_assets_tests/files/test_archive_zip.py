"""Archive zips: manifest and hashes, tamper detection, raw-file restore, streaming."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tracemalloc
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reddit_assets.files.archive_zip import (
    ARCHIVE_FORMAT,
    ArchiveError,
    build_archive,
    extract_raw,
    read_manifest,
    verify_archive,
)
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.normalize import normalize
from reddit_assets.files.paths import local_archive_path, raw_file_path
from reddit_assets.files.raw_file import read_raw_file, write_raw_file

DATE = dt.date(2026, 11, 27)
SUBREDDIT = "CreditCardsIndia"


def sample_document(subreddit: str = SUBREDDIT, date: dt.date = DATE, n_submissions: int = 3, **extra) -> dict:
    created = dt.datetime.combine(date, dt.time(8), tzinfo=dt.UTC).timestamp()
    submissions = [
        {
            "id": f"s{i}",
            "name": f"t3_s{i}",
            "title": f"Submission {i} – ünïcode ✓",
            "author": f"user{i}",
            "selftext": "body " * (i + 1),
            "url": f"https://example.invalid/{i}",
            "permalink": f"/r/{subreddit}/comments/s{i}/",
            "domain": "self." + subreddit,
            "link_flair_text": None,
            "created_utc": created + i,
            "score": 10 * i,
            "upvote_ratio": 0.9,
            "num_comments": 2,
            "over_18": False,
            "is_self": True,
            "stickied": False,
            "locked": False,
            "spoiler": False,
            "extra_reddit_field": {"kept": True},
        }
        for i in range(n_submissions)
    ]
    comments = []
    for i in range(n_submissions):
        comments.append(
            {
                "id": f"c{i}a",
                "link_id": f"t3_s{i}",
                "parent_id": f"t3_s{i}",
                "author": "x",
                "body": "first",
                "permalink": f"/r/{subreddit}/comments/s{i}/_/c{i}a/",
                "distinguished": None,
                "created_utc": created + 60,
                "edited": False,
                "score": 1,
                "depth": 0,
                "is_submitter": False,
                "stickied": False,
            }
        )
        comments.append(
            {
                "id": f"c{i}b",
                "link_id": f"t3_s{i}",
                "parent_id": f"t1_c{i}a",
                "author": None,
                "body": "[deleted]",
                "permalink": f"/r/{subreddit}/comments/s{i}/_/c{i}b/",
                "distinguished": None,
                "created_utc": created + 120,
                "edited": created + 180,
                "score": -1,
                "depth": 1,
                "is_submitter": True,
                "stickied": False,
            }
        )
    return {
        "subreddit": subreddit,
        "date": date.isoformat(),
        "settings": {"category": "top", "n_results": 25, "time_filter": "day", "comments": "all", **extra},
        "scraped_at": dt.datetime.combine(date, dt.time(23, 30, 5), tzinfo=dt.UTC).isoformat(),
        "api_requests": 7,
        "submissions": submissions,
        "comments": comments,
    }


def make_archive(data_dir: Path, document: dict | None = None):
    """Write a raw file, normalize it, build its archive; return (raw_path, document, ArchiveInfo)."""
    document = document or sample_document()
    date = dt.date.fromisoformat(document["date"])
    raw_path = raw_file_path(data_dir, date, document["subreddit"])
    write_raw_file(raw_path, document)
    parsed = read_raw_file(raw_path)
    submissions, comments = normalize(parsed)
    zip_path = local_archive_path(data_dir, date, document["subreddit"])
    return raw_path, parsed, build_archive(raw_path, parsed, submissions, comments, zip_path)


def _rewrite_zip(src: Path, dest: Path, replace: dict[str, bytes]) -> None:
    """Copy a zip member by member, replacing some members' bytes (same names, same order)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, replace.get(info.filename, zin.read(info.filename)))


def test_archive_members_manifest_and_hashes(tmp_path):
    raw_path, document, info = make_archive(tmp_path)
    raw_name = f"{SUBREDDIT}.json"

    assert info.path == tmp_path / "archives/daily_scrapes/CreditCardsIndia/2026-11-27/CreditCardsIndia_2026-11-27.zip"
    assert info.size == info.path.stat().st_size
    assert info.sha256 == sha256_file(info.path)
    assert [p.name for p in info.path.parent.iterdir()] == [info.path.name], "no temporary file left behind"

    with zipfile.ZipFile(info.path) as zf:
        assert zf.namelist() == [raw_name, "submissions.parquet", "comments.parquet", "manifest.json"]
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
        assert kinds == {
            raw_name: zipfile.ZIP_DEFLATED,
            "submissions.parquet": zipfile.ZIP_STORED,
            "comments.parquet": zipfile.ZIP_STORED,
            "manifest.json": zipfile.ZIP_DEFLATED,
        }
        assert zf.read(raw_name) == raw_path.read_bytes()
        subs = pq.read_table(pa.BufferReader(zf.read("submissions.parquet")))
        coms = pq.read_table(pa.BufferReader(zf.read("comments.parquet")))
        members = {n: zf.read(n) for n in zf.namelist()}

    expected_subs, expected_coms = normalize(document)
    assert subs.equals(expected_subs) and coms.equals(expected_coms)

    manifest = read_manifest(info.path)
    assert manifest == info.manifest
    assert manifest["format"] == ARCHIVE_FORMAT
    assert (manifest["subreddit"], manifest["date"], manifest["scraped_at"]) == (
        SUBREDDIT,
        "2026-11-27",
        document["scraped_at"],
    )
    assert manifest["counts"] == {"submissions": 3, "comments": 6}
    assert set(manifest["files"]) == {raw_name, "submissions.parquet", "comments.parquet"}
    for name, entry in manifest["files"].items():
        assert entry == {"bytes": len(members[name]), "sha256": hashlib.sha256(members[name]).hexdigest()}
    assert manifest["files"][raw_name]["sha256"] == sha256_file(raw_path)
    dt.datetime.fromisoformat(manifest["created_at"])
    assert verify_archive(info.path) == []


def test_rebuilding_replaces_the_zip_with_the_same_members(tmp_path):
    raw_path, document, first = make_archive(tmp_path)
    subs, coms = normalize(document)
    second = build_archive(raw_path, document, subs, coms, first.path)
    assert second.manifest["files"] == first.manifest["files"]
    assert sorted(p.name for p in first.path.parent.iterdir()) == [first.path.name]


def test_empty_day_builds_a_valid_archive(tmp_path):
    document = sample_document(n_submissions=0)
    _, _, info = make_archive(tmp_path, document)
    assert info.manifest["counts"] == {"submissions": 0, "comments": 0}
    assert verify_archive(info.path) == []


@pytest.mark.parametrize("member", ["submissions.parquet", "comments.parquet", f"{SUBREDDIT}.json"])
def test_tampered_member_is_reported(tmp_path, member):
    _, _, info = make_archive(tmp_path)
    with zipfile.ZipFile(info.path) as zf:
        original = zf.read(member)
    tampered = tmp_path / "tampered.zip"
    _rewrite_zip(info.path, tampered, {member: original[:-1] + bytes([original[-1] ^ 1])})
    problems = verify_archive(tampered)
    assert any(member in p and "SHA-256" in p for p in problems), problems


def test_wrong_counts_missing_and_extra_members_are_reported(tmp_path):
    _, _, info = make_archive(tmp_path)
    manifest = dict(info.manifest, counts={"submissions": 4, "comments": 6})
    bad = tmp_path / "counts.zip"
    _rewrite_zip(info.path, bad, {"manifest.json": json.dumps(manifest).encode()})
    problems = verify_archive(bad)
    assert len(problems) == 1 and "submissions.parquet holds 3 rows" in problems[0], problems

    extra = tmp_path / "extra.zip"
    with zipfile.ZipFile(info.path) as zin, zipfile.ZipFile(extra, "w") as zout:
        for item in zin.infolist():
            if item.filename != "comments.parquet":
                zout.writestr(item, zin.read(item.filename))
        zout.writestr("stowaway.txt", b"hi")
    problems = verify_archive(extra)
    assert any("comments.parquet" in p and "missing" in p for p in problems), problems
    assert any("stowaway.txt" in p for p in problems), problems


def test_corrupted_bytes_and_non_zip_are_reported(tmp_path):
    _, _, info = make_archive(tmp_path)
    with zipfile.ZipFile(info.path) as zf:
        member = zf.getinfo(f"{SUBREDDIT}.json")
    # Local header: 30 bytes + name + extra; then the deflated data.
    at = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra) + member.compress_size // 2
    data = bytearray(info.path.read_bytes())
    data[at] ^= 0xFF
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(data))
    problems = verify_archive(broken)
    assert problems and f"{SUBREDDIT}.json" in problems[0], problems

    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert "not a readable zip" in verify_archive(junk)[0]
    assert "does not exist" in verify_archive(tmp_path / "missing.zip")[0]
    with pytest.raises(ArchiveError, match="junk.zip"):
        read_manifest(junk)


def test_extract_raw_round_trips(tmp_path):
    raw_path, _, info = make_archive(tmp_path)
    restored = extract_raw(info.path, tmp_path / "restored" / "x.json")
    assert restored.read_bytes() == raw_path.read_bytes()
    assert read_raw_file(restored)["submission_count"] == 3
    assert [p.name for p in restored.parent.iterdir()] == ["x.json"]


def test_extract_raw_refuses_a_mismatching_raw_member(tmp_path):
    _, _, info = make_archive(tmp_path)
    raw_name = f"{SUBREDDIT}.json"
    with zipfile.ZipFile(info.path) as zf:
        raw = zf.read(raw_name)
    tampered = tmp_path / "tampered.zip"
    _rewrite_zip(info.path, tampered, {raw_name: raw.replace(b"first", b"FIRST")})
    dest = tmp_path / "out" / "raw.json"
    dest.parent.mkdir()
    dest.write_bytes(b"previous")
    with pytest.raises(ArchiveError, match=r"tampered\.zip.*does not match the manifest"):
        extract_raw(tampered, dest)
    assert dest.read_bytes() == b"previous"
    assert [p.name for p in dest.parent.iterdir()] == ["raw.json"]


def test_large_raw_file_is_streamed(tmp_path):
    # ~24 MB raw file; the tables stay small. Building must not hold the raw file in memory.
    document = sample_document(padding=["x" * 1000 + str(i) for i in range(24_000)])
    raw_path = tmp_path / "scrapes" / f"{SUBREDDIT}.json"
    write_raw_file(raw_path, document)
    parsed = dict(document, settings={})  # what build_archive needs besides the raw bytes
    del document
    subs, coms = normalize(parsed)
    tracemalloc.start()
    try:
        info = build_archive(raw_path, parsed, subs, coms, tmp_path / "big.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    raw_size = raw_path.stat().st_size
    assert raw_size > 20_000_000
    assert peak < 8_000_000, f"peak {peak} bytes while archiving a {raw_size}-byte raw file"
    assert info.manifest["files"][f"{SUBREDDIT}.json"]["bytes"] == raw_size
    assert info.size < raw_size // 10  # deflated
    assert verify_archive(info.path) == []
