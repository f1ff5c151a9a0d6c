"""Processes killed with SIGKILL in the middle of their work, in a child process.

- A scrape killed while it writes the raw file: the final name holds the old file or
  nothing, never a half file; the dead writer's temporary file is removed by the next write.
- A load killed in the middle of its COPY: PostgreSQL rolls the transaction back, the
  partition keeps exactly its old rows, and a rerun leaves exactly the new ones.
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from reddit_assets.files.archive_zip import build_archive, verify_archive
from reddit_assets.files.atomic import host_id
from reddit_assets.files.normalize import normalize
from reddit_assets.files.raw_file import read_raw_file, write_raw_file
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_tests.faults.pg import wait_for_copy, wait_until_gone
from reddit_assets_tests.faults.support import (
    PYTHON,
    RAW_SCRAPE,
    REPO,
    data_dir,
    key,
    raw_path,
    read_raw,
    run,
    subprocess_env,
    synthetic_document,
    table_counts,
    table_ids,
    temp_files,
    today,
)
from reddit_assets_tests.fixtures.postgres import postgres_url_for
from reddit_assets_tests.harness import configure

BIG_THREAD = 10_000  # comments: a raw file of about 8 MB, written in a few tenths of a second


def _child(log_dir, job: str, partition: str, *assets: str) -> subprocess.Popen:
    with open(log_dir / "child.log", "wb") as log:  # a file, not a pipe nobody reads while waiting
        return subprocess.Popen(
            [PYTHON, "-m", "reddit_assets_tests.faults.run_in_child", job, partition, *assets],
            cwd=REPO,
            env=subprocess_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.integration
def test_scrape_killed_while_writing_leaves_no_half_file(monkeypatch, tmp_path, reddit_server, instance):
    name = "hugesub"
    reddit_server.set_subreddit(
        name,
        generate_subreddit(
            name,
            today(),
            n_submissions=5,
            comments_per_submission=(0, 5),
            popular_threads=0,
            big_thread_comments=BIG_THREAD,
        ),
    )
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": name, "n_results": 5}])
    final = raw_path(tmp_path, name)
    write_raw_file(final, synthetic_document(name, today(), 1, 1, prefix="old"))  # an earlier scrape of the day
    old_bytes = final.read_bytes()

    child = _child(tmp_path, "daily_scrape_job", key(name), "reddit/raw_scrape")
    try:
        deadline = time.monotonic() + 120
        tmp = None
        while time.monotonic() < deadline and child.poll() is None:
            found = temp_files(data_dir(tmp_path))
            # Kill once 256 KB are written: well inside the write (about 8 MB), well before its end.
            if found and found[0].stat().st_size > 256 << 10:
                tmp = found[0]
                break
            time.sleep(0.002)
        assert tmp is not None, f"no partial temp file seen (child exit {child.poll()})"
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert final.read_bytes() == old_bytes  # the final name still holds the old, complete file
    leftovers = temp_files(data_dir(tmp_path))
    assert leftovers == [tmp]
    assert re.fullmatch(rf"\.{name}\.json\.{re.escape(host_id())}\.{child.pid}\.[0-9a-f]{{16}}\.tmp", tmp.name)
    with pytest.raises(json.JSONDecodeError):
        json.loads(tmp.read_bytes())  # what the kill interrupted: a partial document

    # The next scrape of the partition writes the whole file and removes the dead writer's leftover.
    assert run(defs, "daily_scrape_job", key(name), instance, asset_selection=[RAW_SCRAPE]).success
    raw = read_raw(tmp_path, name)
    assert raw["comment_count"] == len(raw["comments"]) > BIG_THREAD
    assert temp_files(data_dir(tmp_path)) == []


@pytest.mark.integration
@pytest.mark.postgres
def test_load_killed_mid_copy_leaves_old_rows_and_rerun_is_exact(
    monkeypatch, tmp_path, reddit_server, instance, postgres_database
):
    name = "killload"
    url = postgres_url_for(postgres_database)
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, database_url=url, subreddits=[{"name": name}])
    path = raw_path(tmp_path, name)
    write_raw_file(path, synthetic_document(name, today(), 30, 400, prefix="old"))
    assert run(defs, "database_only_job", key(name), instance).success
    old = {t: table_ids(url, t, name) for t in ("reddit_submissions", "reddit_comments")}

    new_doc = synthetic_document(name, today(), 800, 40_000, prefix="new")
    write_raw_file(path, new_doc)
    child = _child(tmp_path, "database_only_job", key(name))
    try:
        pids = wait_for_copy(postgres_database, "reddit_comments", stop=lambda: child.poll() is not None)
        assert pids, f"no COPY seen (child exit {child.poll()})"
        _kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    wait_until_gone(postgres_database, pids)  # the server noticed the dead client and rolled back

    assert {t: table_ids(url, t, name) for t in old} == old  # no partial partition is visible
    assert run(defs, "database_only_job", key(name), instance).success
    assert table_counts(url, name) == (800, 40_000)
    assert table_ids(url, "reddit_comments", name) == {c["id"] for c in new_doc["comments"]}


def test_only_temp_files_of_dead_writers_are_removed(tmp_path):
    final = tmp_path / "scrapes" / "2026-01-01" / "somesub.json"
    final.parent.mkdir(parents=True)
    live = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([PYTHON, "-c", "pass"])
    dead.wait()
    here = host_id()
    try:
        live_tmp = final.with_name(f".somesub.json.{here}.{live.pid}.0123456789abcdef.tmp")
        dead_tmp = final.with_name(f".somesub.json.{here}.{dead.pid}.0123456789abcdef.tmp")
        # Another pod on a shared volume: its PID means nothing here, only its age counts.
        other_pod_fresh = final.with_name(f".somesub.json.other-pod.{dead.pid}.0123456789abcdef.tmp")
        other_pod_old = final.with_name(f".somesub.json.other-pod.{dead.pid}.fedcba9876543210.tmp")
        other = final.with_name(f".othersub.json.{here}.{dead.pid}.0123456789abcdef.tmp")
        for path in (live_tmp, dead_tmp, other_pod_fresh, other_pod_old, other):
            path.write_bytes(b'{"half":')
        week_ago = time.time() - 7 * 86400
        os.utime(other_pod_old, (week_ago, week_ago))
        write_raw_file(final, synthetic_document("somesub", today(), 1, 1))
        assert live_tmp.exists()  # a live writer's file is never touched
        assert other_pod_fresh.exists()  # nor one another host may still be writing
        assert not dead_tmp.exists() and not other_pod_old.exists()
        assert other.exists()  # another file's leftovers wait for that file's next write
        assert json.loads(final.read_bytes())["submission_count"] == 1

        # Archives are written the same way: a killed build's zip is removed by the next build.
        zip_path = tmp_path / "archives" / "somesub.zip"
        zip_path.parent.mkdir()
        dead_zip_tmp = zip_path.with_name(f".somesub.zip.{here}.{dead.pid}.89abcdef01234567.tmp")
        dead_zip_tmp.write_bytes(b"PK\x03\x04half")
        document = read_raw_file(final)
        build_archive(final, document, *normalize(document), zip_path)
        assert not dead_zip_tmp.exists() and verify_archive(zip_path) == []
    finally:
        live.kill()
        live.wait()
