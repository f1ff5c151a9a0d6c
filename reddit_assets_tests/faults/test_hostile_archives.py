"""Hostile archives: another partition's data, forged manifests, repeated and symlink members, zip bombs.

Fast tests on real zip files (no server): each asserts the exact refusal, that nothing
was placed at the raw file's path, and, for the bombs, the peak memory of a child process.
"""

import hashlib
import json
import stat
import sys
import zipfile

import pytest

from reddit_assets.files.archive_zip import ARCHIVE_FORMAT, ArchiveError, extract_raw, verify_archive
from reddit_assets_tests.faults.measured import run_measured
from reddit_assets_tests.files.test_archive_zip import DATE, SUBREDDIT, make_archive, sample_document

PARTITION = (str(DATE), SUBREDDIT)


def _zip(path, members: list[tuple[zipfile.ZipInfo | str, bytes]], manifest: dict) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
        zf.writestr("manifest.json", json.dumps(manifest))


def _manifest(subreddit: str, date: str, files: dict[str, bytes], **sizes) -> dict:
    return {
        "format": ARCHIVE_FORMAT,
        "subreddit": subreddit,
        "date": date,
        "counts": {"submissions": 0, "comments": 0},
        "files": {
            name: {"bytes": sizes.get("bytes", len(data)), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in files.items()
        },
    }


def _nothing_placed(dest):
    assert not dest.exists()
    assert not dest.parent.exists() or list(dest.parent.iterdir()) == []


def test_archive_of_another_partition_is_refused_naming_both(tmp_path):
    _raw, _doc, info = make_archive(tmp_path / "other", sample_document(subreddit="SomeoneElse"))
    dest = tmp_path / "data" / "scrapes" / str(DATE) / f"{SUBREDDIT}.json"
    with pytest.raises(ArchiveError) as err:
        extract_raw(info.path, dest, partition=PARTITION)
    assert str(err.value) == (
        f"archive {info.path}: its manifest is of partition {DATE}|SomeoneElse, not {DATE}|{SUBREDDIT}; not restored"
    )
    _nothing_placed(dest)


def test_forged_manifest_over_another_partitions_raw_file_is_refused(tmp_path):
    raw, _doc, _info = make_archive(tmp_path / "other", sample_document(date=DATE.replace(day=26)))
    data = raw.read_bytes()  # a real raw file of 2026-11-26, renamed and listed as 2026-11-27
    forged = tmp_path / "forged.zip"
    _zip(forged, [(f"{SUBREDDIT}.json", data)], _manifest(SUBREDDIT, str(DATE), {f"{SUBREDDIT}.json": data}))
    dest = tmp_path / "data" / f"{SUBREDDIT}.json"
    with pytest.raises(ArchiveError) as err:
        extract_raw(forged, dest, partition=PARTITION)
    assert str(err.value) == (
        f"archive {forged}: raw file {SUBREDDIT}.json is of partition 2026-11-26|{SUBREDDIT}, "
        f"not {DATE}|{SUBREDDIT}; not restored"
    )
    _nothing_placed(dest)


def test_repeated_member_names_are_refused_and_reported(tmp_path):
    raw, _doc, _info = make_archive(tmp_path / "good")
    good = raw.read_bytes()
    name = f"{SUBREDDIT}.json"
    twice = tmp_path / "twice.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _zip(twice, [(name, good), (name, b'{"evil": true}')], _manifest(SUBREDDIT, str(DATE), {name: good}))
    dest = tmp_path / "data" / name
    with pytest.raises(ArchiveError) as err:
        extract_raw(twice, dest, partition=PARTITION)
    assert str(err.value) == f"archive {twice}: member name '{name}' occurs 2 times; not restored"
    assert verify_archive(twice) == [f"member name '{name}' occurs 2 times"]
    _nothing_placed(dest)


def test_symlink_member_is_refused_not_placed_as_text(tmp_path):
    name = f"{SUBREDDIT}.json"
    link = zipfile.ZipInfo(name)
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    target = b"/etc/passwd"
    archive = tmp_path / "link.zip"
    _zip(archive, [(link, target)], _manifest(SUBREDDIT, str(DATE), {name: target}))
    dest = tmp_path / "data" / name
    with pytest.raises(ArchiveError) as err:
        extract_raw(archive, dest, partition=PARTITION)
    assert str(err.value) == f"archive {archive}: member '{name}' is not a regular file; not restored"
    _nothing_placed(dest)


def test_manifest_files_entry_that_is_a_string_is_one_clear_line(tmp_path):
    name = f"{SUBREDDIT}.json"
    archive = tmp_path / "odd.zip"
    manifest = _manifest(SUBREDDIT, str(DATE), {})
    manifest["files"] = {name: "not an object"}
    _zip(archive, [(name, b"{}")], manifest)
    with pytest.raises(ArchiveError) as err:
        extract_raw(archive, tmp_path / "data" / name, partition=PARTITION)
    assert str(err.value) == f"archive {archive}: manifest entry for {name} is not an object; not restored"


# Importing pyarrow and the module peaks near 66 MB; a member held whole would add its size (300 MB).
MEMORY_BOUND_MB = 120


def _bomb(path, inflated: int, listed: int, member: str, compress_type: int = zipfile.ZIP_DEFLATED) -> None:
    """A zip whose member inflates to `inflated` zero bytes while the manifest lists `listed`."""
    zero_block = bytes(1 << 20)
    sha = hashlib.sha256()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info = zipfile.ZipInfo(member)
        info.compress_type = compress_type
        with zf.open(info, "w", force_zip64=True) as out:
            for _ in range(inflated >> 20):
                out.write(zero_block)
                sha.update(zero_block)
        files = {member: {"bytes": listed, "sha256": sha.hexdigest()}}
        manifest = {"format": ARCHIVE_FORMAT, "subreddit": SUBREDDIT, "date": str(DATE), "counts": {}, "files": files}
        zf.writestr("manifest.json", json.dumps(manifest))


_CHILD = (
    "import sys, json; from pathlib import Path; from reddit_assets.files import archive_zip as a\n"
    "try:\n"
    "    a.extract_raw(Path(sys.argv[1]), Path(sys.argv[2]), partition=(sys.argv[3], sys.argv[4])); print('placed')\n"
    "except a.ArchiveError as exc:\n"
    "    print(exc)\n"
)


def test_raw_member_inflating_past_its_manifest_size_stops_at_the_first_byte_past_it(tmp_path):
    name = f"{SUBREDDIT}.json"
    bomb = tmp_path / "bomb.zip"
    _bomb(bomb, inflated=256 << 20, listed=1000, member=name)
    assert bomb.stat().st_size < 2 << 20
    dest = tmp_path / "data" / name
    result = run_measured([sys.executable, "-c", _CHILD, str(bomb), str(dest), *PARTITION])
    assert result.stdout == (
        f"archive {bomb}: member {name} holds more than the 1000 bytes its manifest lists; stopped there; "
        "not restored\n"
    ), result.stderr
    _nothing_placed(dest)
    assert result.peak_rss_mb < MEMORY_BOUND_MB, result.peak_rss_mb


def test_manifest_listing_a_giant_raw_file_is_refused_before_reading(tmp_path):
    name = f"{SUBREDDIT}.json"
    bomb = tmp_path / "big.zip"
    _bomb(bomb, inflated=1 << 20, listed=4 << 30, member=name)
    dest = tmp_path / "data" / name
    with pytest.raises(ArchiveError) as err:
        extract_raw(bomb, dest, partition=PARTITION)
    assert str(err.value) == (
        f"archive {bomb}: manifest says {name} has {4 << 30} bytes, over the {512 << 20}-byte maximum; "
        "not read; not restored"
    )
    _nothing_placed(dest)


@pytest.mark.parametrize("compress_type", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"])
def test_verify_archive_streams_a_huge_parquet_member(tmp_path, compress_type):
    bomb = tmp_path / "parquet-bomb.zip"
    _bomb(bomb, inflated=300 << 20, listed=300 << 20, member="submissions.parquet", compress_type=compress_type)
    child = "import sys; from reddit_assets.files.archive_zip import verify_archive; print(verify_archive(sys.argv[1]))"
    result = run_measured([sys.executable, "-c", child, str(bomb)])
    assert result.returncode == 0, result.stderr
    assert "member submissions.parquet is not readable Parquet" in result.stdout
    assert result.peak_rss_mb < MEMORY_BOUND_MB, result.peak_rss_mb  # it held the whole 300 MB member before
