"""Hostile input: names in the config file, partition keys on the command line, and text
in Reddit's data that looks like SQL or breaks CSV.

Names are refused when the real definitions load (message names entry and field); keys
Dagster does not know are refused before anything runs; text round-trips verbatim
through the raw file, SQLite, PostgreSQL (COPY) and the archive.
"""

import datetime as dt
import re
import subprocess
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from dagster import DagsterUnknownPartitionError

from reddit_assets.config import ConfigError
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_tests.faults.support import (
    DAGSTER,
    data_dir,
    key,
    local_zip,
    read_raw,
    run,
    sqlite_url,
    subprocess_env,
    today,
)
from reddit_assets_tests.harness import configure

pytestmark = pytest.mark.integration

HOSTILE_NAMES = [
    "../etc",
    "..",
    "a/b",
    "/abs",
    "a\\b",
    '"quoted"',
    "it's",
    "x'; DROP TABLE reddit_submissions;--",
    "a;b",
    "pyth\u03bfn",  # Greek omicron
    "\u0440ython",  # Cyrillic er
    "\uff50ython",  # fullwidth p
    "py\u200bthon",  # zero-width space
    "py\nthon",
    "python\n",
    "py\tthon",
    "py\x1bthon",
    "py\x00thon",
    "py thon",
    "%2e%2e",
    "_leading",
]


@pytest.mark.parametrize("bad", HOSTILE_NAMES, ids=[repr(n) for n in HOSTILE_NAMES])
def test_hostile_subreddit_names_are_refused_when_definitions_load(monkeypatch, tmp_path, reddit_server, bad):
    with pytest.raises(ConfigError) as info:
        configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "fine_one"}, {"name": bad}])
    message = str(info.value)
    assert f"subreddits[1] ({bad!r})" in message  # the entry, by position and by name
    assert "field 'name'" in message
    assert "not a subreddit name" in message
    assert not data_dir(tmp_path).exists()  # refused before anything was created


def test_hostile_entry_among_many_is_named_by_position(monkeypatch, tmp_path, reddit_server):
    subs = [{"name": f"good{i}"} for i in range(5)] + [{"name": "../../root"}] + [{"name": "later"}]
    with pytest.raises(ConfigError, match=r"subreddits\[5\] \('\.\./\.\./root'\): field 'name'"):
        configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=subs)


BAD_KEYS = [
    "bad",
    "2026-13-45|goodname",
    "2026-02-30|goodname",
    f"{today()}|../etc",
    f"{today()}|notconfigured",
    f"goodname|{today()}",
    f"{today()}|goodname|extra",
    f"{today() + dt.timedelta(days=2)}|goodname",
    "'; DROP TABLE reddit_submissions; --",
    f"{today()}|goodname\n",
]
CLI_KEYS = ["bad", f"{today()}|../etc", "'; DROP TABLE reddit_submissions; --"]


@pytest.mark.parametrize("bad", BAD_KEYS, ids=[repr(k) for k in BAD_KEYS])
def test_malformed_partition_keys_are_refused_before_any_step(monkeypatch, tmp_path, reddit_server, instance, bad):
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "goodname"}])
    with pytest.raises(DagsterUnknownPartitionError, match=re.escape(f"`{bad}`")):
        run(defs, "daily_scrape_job", bad, instance)
    assert reddit_server.stats()["requests"] == 0
    assert instance.get_runs() == []  # refused before a run was even created
    assert not (data_dir(tmp_path) / "scrapes").exists()


def test_malformed_partition_keys_on_the_command_line_give_a_clear_error(monkeypatch, tmp_path, reddit_server):
    configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=[{"name": "goodname"}])
    env = subprocess_env()
    # One dagster process per key, all at once: each spends its seconds importing Dagster.
    children = {
        bad: subprocess.Popen(
            [
                DAGSTER,
                "asset",
                "materialize",
                "-m",
                "reddit_assets.definitions",
                "--select",
                "reddit/raw_scrape",
                "--partition",
                bad,
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for bad in CLI_KEYS
    }
    for bad, child in children.items():
        out, err = child.communicate(timeout=180)
        assert child.returncode != 0, f"{bad!r} was accepted: {out}"
        last = err.strip().splitlines()[-1]
        assert f"partition key `{bad}`" in last and "PartitionsDefinition containing" in last, last
    assert reddit_server.stats()["requests"] == 0  # nothing ran
    assert not (data_dir(tmp_path) / "scrapes").exists()


INJECTION = "'; DROP TABLE reddit_submissions; --"
NASTY_TEXTS = [
    INJECTION,
    'Robert"); DROP TABLE reddit_comments;--',
    'a "quoted", comma, and\nnew line',
    "line one\n\\.\nline three",  # COPY's end-of-data marker on a line of its own
    "\\N",  # COPY's text-format NULL
    "tab\there\r\nand CRLF",
    "$$ dollar $$ :param %s %(x)s ?",
    "unicode: ünïcödé, emoji 🦀, RTL \u202eevil",
    "",
]


def _serve_nasty(server, name):
    data = generate_subreddit(
        name, today(), n_submissions=len(NASTY_TEXTS), comments_per_submission=(2, 3), popular_threads=0
    )
    for i, submission in enumerate(data.submissions):
        text = NASTY_TEXTS[i % len(NASTY_TEXTS)]
        submission.update(title=INJECTION + " #" + str(i), selftext=text, link_flair_text=text or None)
        for j, comment in enumerate(data.comments.get(submission["id"], [])):
            comment["body"] = NASTY_TEXTS[(i + j) % len(NASTY_TEXTS)]
    server.set_subreddit(name, data)
    return data


def _rows(url, table, columns, name):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execute(
                sa.text(f"SELECT id, {', '.join(columns)} FROM {table} WHERE subreddit = :s AND scrape_date = :d"),
                {"s": name, "d": today()},
            )
            return {row[0]: tuple(row[1:]) for row in result}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sql_and_csv_lookalike_text_round_trips_verbatim(
    monkeypatch, tmp_path, reddit_server, instance, backend, request
):
    name = "drop_table"
    data = _serve_nasty(reddit_server, name)
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        database_url=url,
        subreddits=[{"name": name, "category": "new", "n_results": 100, "comments": "all"}],
        flags={"upload_to_r2_enabled": False},
    )
    assert run(defs, "daily_scrape_job", key(name), instance).success
    url = url or sqlite_url(tmp_path)

    raw = read_raw(tmp_path, name)
    sent = {s["id"]: (s["title"], s["selftext"], s["link_flair_text"]) for s in data.submissions}
    assert {s["id"]: (s["title"], s["selftext"], s["link_flair_text"]) for s in raw["submissions"]} == sent
    assert _rows(url, "reddit_submissions", ["title", "selftext", "link_flair_text"], name) == sent
    bodies = {c["id"]: (c["body"],) for c in data.iter_comments()}
    assert len(bodies) > len(NASTY_TEXTS)
    assert _rows(url, "reddit_comments", ["body"], name) == bodies

    with zipfile.ZipFile(local_zip(tmp_path, name)) as zf:
        table = pq.read_table(pa.BufferReader(zf.read("submissions.parquet")))
    assert dict(zip(table.column("id").to_pylist(), table.column("title").to_pylist())) == {
        k: v[0] for k, v in sent.items()
    }

    engine = sa.create_engine(url)
    try:
        assert {"reddit_submissions", "reddit_comments"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
