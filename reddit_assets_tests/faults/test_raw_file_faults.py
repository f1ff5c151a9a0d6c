"""A truncated or corrupted raw file: both readers (tables and archive) fail at once, with a
message that names the file and what is wrong, and change nothing."""

import json

import dagster as dg
import pytest

from reddit_assets.files.raw_file import write_raw_file
from reddit_assets_tests.faults.support import (
    failure_messages,
    key,
    local_zip,
    raw_path,
    retry_count,
    run,
    sqlite_url,
    synthetic_document,
    table_counts,
    today,
)
from reddit_assets_tests.harness import configure

pytestmark = pytest.mark.integration

NAME = "damaged"
READERS = [
    dg.AssetKey(["reddit", "submissions"]),
    dg.AssetKey(["reddit", "comments"]),
    dg.AssetKey(["reddit", "r2_archive"]),
]


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _garbage(data: bytes) -> bytes:
    return b"\x00\xff" * 64


def _bad_utf8(data: bytes) -> bytes:
    return data.replace(b"text", b"t\xffxt", 1)


def _wrong_format(data: bytes) -> bytes:
    doc = json.loads(data)
    doc["format"] = "someone-else/v9"
    return json.dumps(doc).encode()


def _count_mismatch(data: bytes) -> bytes:
    doc = json.loads(data)
    doc["comments"].pop()
    return json.dumps(doc).encode()


def _missing_field(data: bytes) -> bytes:
    doc = json.loads(data)
    del doc["scraped_at"]
    return json.dumps(doc).encode()


def _empty(data: bytes) -> bytes:
    return b""


CASES = [
    (_truncate, "truncated or corrupted, not valid JSON"),
    (_empty, "truncated or corrupted, not valid JSON"),
    (_garbage, "truncated or corrupted, not valid JSON"),
    (_bad_utf8, "truncated or corrupted, not valid JSON"),
    (_wrong_format, "format is 'someone-else/v9'"),
    (_count_mismatch, "'comments' holds 39 items but the file records 40"),
    (_missing_field, "missing fields: scraped_at"),
]


@pytest.mark.parametrize("damage,problem", CASES, ids=[c[0].__name__.strip("_") for c in CASES])
def test_damaged_raw_file_fails_both_readers_naming_file_and_problem(
    monkeypatch, tmp_path, reddit_server, instance, damage, problem
):
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": NAME}])
    path = raw_path(tmp_path, NAME)
    write_raw_file(path, synthetic_document(NAME, today(), 4, 40))
    path.write_bytes(damage(path.read_bytes()))

    result = run(defs, "daily_scrape_job", key(NAME), instance, asset_selection=READERS)
    assert not result.success
    failed = {e.step_key for e in result.get_step_failure_events()}
    assert failed == {"database_tables", "reddit__r2_archive"}
    for step in failed:
        assert retry_count(result, step) == 0  # a bad file does not get better by retrying
        message = failure_messages(result, step)[0]
        assert f"raw file {path}" in message and problem in message, message
    assert reddit_server.stats()["requests"] == 0  # readers never call Reddit
    assert not local_zip(tmp_path, NAME).exists()
    assert not (tmp_path / "data" / "r2").exists() or not any((tmp_path / "data" / "r2").rglob("*.zip"))
    db = tmp_path / "data" / "reddit.db"
    assert not db.exists() or table_counts(sqlite_url(tmp_path), NAME) == (0, 0)
