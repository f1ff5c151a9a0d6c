"""Hostile raw files: values the tables cannot hold, forged partitions, deep nesting, lone surrogates.

The real definitions load a real raw file into SQLite and build its archive (no server:
these readers never call Reddit). A bad item fails both readers once, with one message
naming the file, the item and the field; the partition's earlier rows stay as they were.
"""

import json

import pytest
import sqlalchemy as sa

from reddit_assets.assets.raw_source import read_normalized
from reddit_assets.files.archive_zip import build_archive
from reddit_assets.files.normalize import normalize
from reddit_assets.files.raw_file import RawFileError, read_raw_file, write_raw_file
from reddit_assets_tests.faults import support as s
from reddit_assets_tests.faults.support import failure_messages, key, raw_path, retry_count, synthetic_document, today
from reddit_assets_tests.faults.test_raw_file_faults import READERS
from reddit_assets_tests.harness import configure

NAME = "hostile"
NOWHERE = "http://127.0.0.1:9"
FAILURE = "dagster._core.definitions.events.Failure: "  # these readers never call Reddit; a request would fail at once


def _submission(field, value):
    def change(doc):
        doc["submissions"][1][field] = value

    return change


def _comment(field, value):
    def change(doc):
        doc["comments"][2][field] = value

    return change


CASES = [
    ("created_utc_1e12", _submission("created_utc", 1e12), "submission 'news1': field 'created_utc': time 1000000000000.0 is outside 2005-01-01 .. now + 1 day"),
    ("created_utc_1e17", _submission("created_utc", 1e17), "submission 'news1': field 'created_utc': time 1e+17 is outside 2005-01-01 .. now + 1 day"),
    ("created_utc_text", _submission("created_utc", "26 Nov 2025"), "submission 'news1': field 'created_utc': a time must be epoch seconds (a number or numeric string), not str '26 Nov 2025'"),
    ("created_utc_text_far", _submission("created_utc", "99999999999"), "submission 'news1': field 'created_utc': time 99999999999 is outside 2005-01-01 .. now + 1 day"),
    ("score_fraction", _submission("score", 1.5), "submission 'news1': field 'score': must be a whole number, not float 1.5"),
    ("score_text", _submission("score", "12"), "submission 'news1': field 'score': must be a whole number, not str '12'"),
    ("id_null", _submission("id", None), "submission #1 (by position): field 'id': an id must be a string, not NoneType None"),
    ("id_number", _submission("id", 12), "submission #1 (by position): field 'id': an id must be a string, not int 12"),
    ("id_list", _submission("id", ["a"]), "submission #1 (by position): field 'id': an id must be a string, not list ['a']"),
    ("id_nul", _submission("id", "news0\x00"), "submission #1 (by position): field 'id': an id must be 1 to 100 characters without NUL, not 'news0\\x00'"),
    ("over_18_text", _submission("over_18", "no"), "submission 'news1': field 'over_18': must be true or false, not 'no'"),
    ("title_object", _submission("title", {"a": 1}), "submission 'news1': field 'title': must be text, not dict {'a': 1}"),
    ("comment_edited_text", _comment("edited", "yesterday"), "comment 'newc2': field 'edited': a time must be epoch seconds (a number or numeric string), not str 'yesterday'"),
    ("comment_parent_number", _comment("parent_id", 7), "comment 'newc2': field 'parent_id': must be text, not int 7"),
    ("comment_depth_fraction", _comment("depth", 0.5), "comment 'newc2': field 'depth': must be a whole number, not float 0.5"),
]  # fmt: skip


def _load_good(monkeypatch, tmp_path, instance):
    defs = configure(
        monkeypatch, tmp_path, reddit_url=NOWHERE, subreddits=[{"name": NAME}], flags={"upload_to_r2_enabled": False}
    )
    path = raw_path(tmp_path, NAME)
    write_raw_file(path, synthetic_document(NAME, today(), 3, 5, prefix="old"))
    assert s.run(defs, "daily_scrape_job", key(NAME), instance, asset_selection=READERS).success
    url = s.sqlite_url(tmp_path)
    before = {t: s.table_ids(url, t, NAME) for t in ("reddit_submissions", "reddit_comments")}
    assert before["reddit_submissions"] == {"olds0", "olds1", "olds2"}
    return defs, path, url, before


@pytest.mark.parametrize("case,change,message", CASES, ids=[c[0] for c in CASES])
def test_bad_item_is_refused_when_read_naming_file_item_and_field(tmp_path, case, change, message):
    path = tmp_path / f"{NAME}.json"
    document = synthetic_document(NAME, today(), 4, 6, prefix="new")
    change(document)
    write_raw_file(path, document)
    with pytest.raises(RawFileError) as info:
        read_normalized(path)
    assert str(info.value) == f"raw file {path}: {message}"


END_TO_END = [c for c in CASES if c[0] in ("created_utc_1e17", "id_list", "comment_depth_fraction")]


@pytest.mark.parametrize("case,change,message", END_TO_END, ids=[c[0] for c in END_TO_END])
def test_bad_item_fails_the_load_once_naming_file_item_and_field(
    monkeypatch, tmp_path, instance, case, change, message
):
    defs, path, url, before = _load_good(monkeypatch, tmp_path, instance)
    zip_before = s.local_zip(tmp_path, NAME).read_bytes()
    document = synthetic_document(NAME, today(), 4, 6, prefix="new")
    change(document)
    write_raw_file(path, document)

    result = s.run(defs, "daily_scrape_job", key(NAME), instance, asset_selection=READERS)

    assert not result.success
    for step in ("database_tables", "reddit__r2_archive"):
        assert retry_count(result, step) == 0  # bad input does not get better by retrying
        assert failure_messages(result, step) == [f"{FAILURE}partition {key(NAME)}: raw file {path}: {message}\n"]
    assert {t: s.table_ids(url, t, NAME) for t in before} == before  # rows unchanged
    assert s.local_zip(tmp_path, NAME).read_bytes() == zip_before  # archive unchanged


def test_raw_file_of_another_partition_is_refused_naming_both(monkeypatch, tmp_path, instance):
    defs, path, url, before = _load_good(monkeypatch, tmp_path, instance)
    document = synthetic_document(NAME, today(), 4, 6, prefix="new")
    document["date"] = "2026-01-02"  # a file of another day placed under today's path
    write_raw_file(path, document)

    result = s.run(defs, "daily_scrape_job", key(NAME), instance, asset_selection=READERS)

    for step in ("database_tables", "reddit__r2_archive"):
        assert retry_count(result, step) == 0
        assert failure_messages(result, step) == [
            f"{FAILURE}partition {key(NAME)}: raw file {path} is of partition 2026-01-02|{NAME}; not loaded or archived\n"
        ]
    assert {t: s.table_ids(url, t, NAME) for t in before} == before


def test_deep_nesting_in_a_field_is_one_clear_line(monkeypatch, tmp_path, instance):
    defs, path, _url, before = _load_good(monkeypatch, tmp_path, instance)
    text = json.dumps(synthetic_document(NAME, today(), 2, 2, prefix="new") | {"format": "reddit_assets/raw-scrape@1"})
    path.write_text(text.replace('"title 0"', "[" * 100_000 + "]" * 100_000, 1))

    result = s.run(defs, "daily_scrape_job", key(NAME), instance, asset_selection=READERS)

    for step in ("database_tables", "reddit__r2_archive"):
        assert failure_messages(result, step) == [
            f"{FAILURE}partition {key(NAME)}: raw file {path}: nested too deeply to be a raw file\n"
        ]


def test_raw_file_over_the_maximum_is_refused_with_its_size(monkeypatch, tmp_path, instance):
    defs, path, _url, _before = _load_good(monkeypatch, tmp_path, instance)
    write_raw_file(path, synthetic_document(NAME, today(), 50, 50, prefix="new"))
    size = path.stat().st_size
    monkeypatch.setenv("REDDIT_ASSETS_MAX_RAW_BYTES", str(size - 1))

    result = s.run(defs, "daily_scrape_job", key(NAME), instance, asset_selection=READERS)

    assert failure_messages(result, "database_tables") == [
        f"{FAILURE}partition {key(NAME)}: raw file {path}: is {size} bytes, over the {size - 1}-byte maximum "
        "($REDDIT_ASSETS_MAX_RAW_BYTES); not read\n"
    ]


def test_lone_surrogate_is_kept_in_the_raw_file_and_replaced_in_the_tables(monkeypatch, tmp_path, instance):
    defs, path, url, _before = _load_good(monkeypatch, tmp_path, instance)
    document = synthetic_document(NAME, today(), 2, 2, prefix="new")
    document["submissions"][0]["title"] = "half a pair \ud83d here"
    write_raw_file(path, document)
    assert b'"half a pair \\ud83d here"' in path.read_bytes()  # the JSON escape Reddit sent, byte for byte

    assert s.run(defs, "daily_scrape_job", key(NAME), instance, asset_selection=READERS).success

    assert json.loads(path.read_bytes())["submissions"][0]["title"] == "half a pair \ud83d here"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            title = conn.execute(sa.text("SELECT title FROM reddit_submissions WHERE id = 'news0'")).scalar()
    finally:
        engine.dispose()
    assert title == "half a pair \ufffd here"


def test_archive_of_another_partition_is_never_restored_by_the_readers(monkeypatch, tmp_path, instance):
    defs, path, url, before = _load_good(monkeypatch, tmp_path, instance)
    other = tmp_path / "other"
    write_raw_file(other / "raw.json", synthetic_document("someone", today(), 2, 2, prefix="other"))
    document = read_raw_file(other / "raw.json")  # the other partition's real archive
    zip_path = s.local_zip(tmp_path, NAME)
    build_archive(other / "raw.json", document, *normalize(document), zip_path)  # planted under our key
    path.unlink()  # the raw file is gone: the readers restore from the archive

    result = s.run(defs, "database_only_job", key(NAME), instance)

    assert retry_count(result, "database_tables") == 0
    assert failure_messages(result, "database_tables") == [
        f"{FAILURE}partition {key(NAME)}: no raw file at {path}, and archive {zip_path}: its manifest is of "
        f"partition {today()}|someone, not {key(NAME)}; not restored\n"
    ]
    assert not path.exists() and not any(p.name.endswith(".tmp") for p in path.parent.iterdir())
    assert {t: s.table_ids(url, t, NAME) for t in before} == before
