"""Hostile and failing file systems: planted symlinks, guessed temporary names, a full or read-only disk.

Every write of a raw file, archive or restored object goes through `atomic_file`; these
tests plant what an attacker with write access to the data folder could, and fill or
freeze the disk for real (a tiny tmpfs, when this machine lets the test mount one).
"""

import os
import subprocess
import uuid

import dagster as dg
import pytest

from reddit_assets.definitions import build_definitions
from reddit_assets.files import atomic
from reddit_assets.files.atomic import DiskWriteError, host_id
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.partitions import partition_key
from reddit_assets_tests.faults.support import synthetic_document, today
from reddit_assets_tests.harness import configure


def _outside(tmp_path):
    target = tmp_path / "outside" / "precious.txt"
    target.parent.mkdir()
    target.write_text("keep me")
    return target


def test_symlinks_at_guessable_temp_names_are_never_written_through(tmp_path):
    outside = _outside(tmp_path)
    final = tmp_path / "data" / "scrapes" / str(today()) / "victim.json"
    final.parent.mkdir(parents=True)
    planted = [
        final.with_name(f".victim.json.{os.getpid()}.tmp"),  # the old predictable name
        final.with_name(f".victim.json.{host_id()}.{os.getpid()}.tmp"),
    ]
    for link in planted:
        link.symlink_to(outside)

    write_raw_file(final, synthetic_document("victim", today(), 2, 2))

    assert outside.read_text() == "keep me"
    assert final.is_file() and not final.is_symlink()
    assert all(link.is_symlink() for link in planted)  # fresh and not ours by name: left alone


def test_a_planted_file_at_the_drawn_temp_name_is_skipped_not_opened(tmp_path, monkeypatch):
    outside = _outside(tmp_path)
    final = tmp_path / "victim.json"
    draws = iter(["0000000000000000", "1111111111111111"])
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda _n: next(draws))  # the attacker guessed the first draw
    guessed = tmp_path / f".victim.json.{host_id()}.{os.getpid()}.0000000000000000.tmp"
    guessed.symlink_to(outside)

    with atomic.atomic_file(final) as handle:
        assert handle.name == str(tmp_path / f".victim.json.{host_id()}.{os.getpid()}.1111111111111111.tmp")
        handle.write(b"new content")

    assert outside.read_text() == "keep me"
    assert final.read_bytes() == b"new content" and not final.is_symlink()


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """Mount a 64 KiB tmpfs (needs CAP_SYS_ADMIN, as root in this test container); skip where not allowed."""

    def mount(options: str):
        where = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
        mounted.append(where)
        return where

    mounted = []
    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_disk_full_names_the_path_and_keeps_the_old_file(tiny_tmpfs):
    root = tiny_tmpfs("size=64k")
    final = root / "scrapes" / "big.json"
    write_raw_file(final, synthetic_document("big", today(), 1, 1))
    old = final.read_bytes()

    with pytest.raises(DiskWriteError) as info:
        write_raw_file(final, synthetic_document("big", today(), 2_000, 2_000))

    assert str(info.value) == f"cannot write {final}: No space left on device"
    assert info.value.errno == 28 and info.value.path == str(final)
    assert final.read_bytes() == old
    assert sorted(p.name for p in final.parent.iterdir()) == ["big.json"]  # no temporary file left


def test_a_staged_file_is_never_written_through_a_symlink_or_over_a_file(tmp_path):
    """An import's staging writes `<index>.json` in its private folder without a temporary name:
    a symlink or file already there is refused, never followed or replaced."""
    outside = _outside(tmp_path)
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "0.json").symlink_to(outside)
    (staging / "1.json").write_text("someone else's")
    for name in ("0.json", "1.json"):
        with pytest.raises(DiskWriteError) as info:
            write_raw_file(staging / name, synthetic_document("victim", today(), 1, 1), opener=atomic.staged_file)
        assert info.value.errno == 17 and info.value.path == str(staging / name)  # EEXIST
    assert outside.read_text() == "keep me" and (staging / "1.json").read_text() == "someone else's"

    written = write_raw_file(staging / "2.json", synthetic_document("fine", today(), 1, 1), opener=atomic.staged_file)
    assert atomic.sha256_file(staging / "2.json") == written.sha256


def test_a_staged_file_that_fills_the_disk_is_removed(tiny_tmpfs):
    staging = tiny_tmpfs("size=64k")
    with pytest.raises(DiskWriteError) as info:
        write_raw_file(staging / "0.json", synthetic_document("big", today(), 2_000, 2_000), opener=atomic.staged_file)
    assert info.value.errno == 28 and info.value.path == str(staging / "0.json")
    assert list(staging.iterdir()) == []


def test_read_only_folder_names_the_path(tiny_tmpfs):
    root = tiny_tmpfs("size=64k,ro")
    final = root / "scrapes" / "2026-01-01" / "sub.json"
    with pytest.raises(DiskWriteError) as info:
        write_raw_file(final, synthetic_document("sub", today(), 1, 1))
    assert str(info.value) == f"cannot write {final.parent}: Read-only file system"
    assert info.value.errno == 30
    assert list(root.iterdir()) == []


def test_a_failing_source_is_not_taken_for_a_full_disk(tmp_path):
    final = tmp_path / "object.zip"

    class DroppedStream:
        def read(self, _n):
            raise ConnectionResetError(104, "Connection reset by peer")

    with pytest.raises(ConnectionResetError), atomic.atomic_file(final) as handle:  # a retryable fault stays one
        atomic.copy_hashing(DroppedStream(), handle)
    assert list(tmp_path.iterdir()) == []  # no temporary file, nothing placed


def _scrape_into(monkeypatch, tmp_path, reddit_server, instance, data_dir):
    configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "fullsub", "category": "new"}])
    monkeypatch.setenv("REDDIT_ASSETS_DATA_DIR", str(data_dir))
    result = (
        build_definitions()
        .resolve_job_def("daily_scrape_job")
        .execute_in_process(
            partition_key=partition_key(today(), "fullsub"),
            instance=instance,
            raise_on_error=False,
            asset_selection=[dg.AssetKey(["reddit", "raw_scrape"])],
        )
    )
    assert not result.success
    events = result.all_events
    assert not [e for e in events if e.event_type_value == "STEP_UP_FOR_RETRY"], "a disk error is not retried"
    [failure] = result.get_step_failure_events()
    return failure.step_failure_data.error.message


def test_scrape_into_a_read_only_data_dir_fails_before_asking_reddit(
    monkeypatch, tmp_path, reddit_server, instance, tiny_tmpfs
):
    root = tiny_tmpfs("size=64k,ro")
    message = _scrape_into(monkeypatch, tmp_path, reddit_server, instance, root)
    assert f"cannot write {root}/scrapes/{today().isoformat()}: Read-only file system (not retried)" in message
    assert reddit_server.stats()["requests"] == 0


def test_scrape_onto_a_full_disk_asks_reddit_once_and_names_the_path(
    monkeypatch, tmp_path, reddit_server, instance, tiny_tmpfs
):
    root = tiny_tmpfs("size=64k")
    message = _scrape_into(monkeypatch, tmp_path, reddit_server, instance, root)
    folder = root / "scrapes" / today().isoformat()
    assert f"cannot write {folder}" in message and "No space left on device" in message, message
    assert "the scrape was not kept (not retried)" in message
    listings = reddit_server.stats()["by_kind"].get("listing", 0)
    assert listings >= 1 and reddit_server.stats()["by_kind"].get("token", 0) == 1, reddit_server.stats()["by_kind"]
    assert [p.name for p in folder.iterdir()] == [], "no temporary file is left"
