"""TableStore on SQLite and PostgreSQL (psycopg 3 and psycopg2): schema, loads, views, helpers."""

from __future__ import annotations

import datetime as dt
import threading

import pyarrow as pa
import pytest
import sqlalchemy as sa

from reddit_assets.files.normalize import normalize
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.tables import (
    COMMENTS,
    COMMENTS_LATEST,
    SUBMISSIONS,
    SUBMISSIONS_LATEST,
    TableStore,
    normalize_url,
)

D1 = dt.date(2026, 3, 1)
D2 = dt.date(2026, 3, 2)
T0 = 1_772_000_000.123456  # a created_utc with microseconds

TRICKY = [
    "emoji 🐍🔥 and ünïcödé — 中文",
    "tab\there, newline\nand CRLF\r\nend",
    "back\\slash \\N \\. and \\\\",
    "quotes \"double\" 'single', commas,,",
    "\\.",
    "line one\n\\.\nline three",
    "",
]


def submission(id_, **extra):
    item = {
        "id": id_,
        "title": f"title {id_}",
        "author": "alice",
        "selftext": "",
        "url": f"https://example.com/{id_}",
        "permalink": f"/r/x/comments/{id_}/",
        "domain": "example.com",
        "link_flair_text": None,
        "created_utc": T0,
        "score": 10,
        "upvote_ratio": 0.97,
        "num_comments": 2,
        "over_18": False,
        "is_self": True,
        "stickied": False,
        "locked": None,
        "spoiler": False,
    }
    return {**item, **extra}


def comment(id_, link="s1", **extra):
    item = {
        "id": id_,
        "link_id": f"t3_{link}",
        "parent_id": f"t3_{link}",
        "author": "bob",
        "body": f"body {id_}",
        "permalink": f"/r/x/comments/{link}/_/{id_}/",
        "distinguished": None,
        "created_utc": T0 + 1,
        "edited": False,
        "score": 1,
        "depth": 0,
        "is_submitter": False,
        "stickied": False,
    }
    return {**item, **extra}


def document(date, subreddit="python", submissions=None, comments=None, scraped_at="2026-03-01T23:30:00.250000+00:00"):
    return {
        "date": date.isoformat(),
        "subreddit": subreddit,
        "scraped_at": scraped_at,
        "submissions": [submission("s1"), submission("s2")] if submissions is None else submissions,
        "comments": [comment("c1"), comment("c2", parent_id="t1_c1", depth=1)] if comments is None else comments,
    }


def load(store, doc):
    subs, coms = normalize(doc)
    return store.replace_partition(dt.date.fromisoformat(doc["date"]), doc["subreddit"], subs, coms)


def read(store, table, date=None, subreddit=None):
    query = sa.select(table).order_by(table.c.scrape_date, table.c.subreddit, table.c.id)
    if date is not None:
        query = query.where(table.c.scrape_date == date, table.c.subreddit == subreddit)
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def expected(arrow_table: pa.Table):
    return sorted(arrow_table.to_pylist(), key=lambda r: (r["scrape_date"], r["subreddit"], r["id"]))


@pytest.fixture(params=["sqlite", "psycopg", "psycopg2"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/db/reddit.db"
    return request.getfixturevalue("postgres_url" if request.param == "psycopg" else "postgres_url_psycopg2")


@pytest.fixture
def store(url):
    store = TableStore(url)
    store.ensure_schema()
    yield store
    store.dispose()


def test_ensure_schema_is_idempotent(store):
    store.ensure_schema()
    store.ensure_schema()
    inspector = sa.inspect(store.engine)
    assert {"reddit_submissions", "reddit_comments"} <= set(inspector.get_table_names())
    assert {"reddit_submissions_latest", "reddit_comments_latest"} <= set(inspector.get_view_names())
    assert set(inspector.get_pk_constraint("reddit_comments")["constrained_columns"]) == {
        "scrape_date",
        "subreddit",
        "id",
    }


def test_ensure_schema_concurrently(url):
    stores = [TableStore(url) for _ in range(3)]
    errors = []
    barrier = threading.Barrier(len(stores))

    def run(s):
        try:
            barrier.wait()
            s.ensure_schema()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()
    assert errors == []


@pytest.mark.integration
def test_ensure_schema_beside_a_partition_load_does_not_deadlock(postgres_url):
    """A run starting (ensure_schema) while another holds a partition's transaction on
    reddit_submissions and goes on to reddit_comments: the start waits, nothing deadlocks."""
    loader, starter = TableStore(postgres_url), TableStore(postgres_url)
    loader.ensure_schema()
    errors = []
    started = threading.Event()

    def start_run():
        started.set()
        try:
            starter.ensure_schema()  # its index on reddit_submissions waits for the load
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    try:
        with loader.engine.connect() as conn, conn.begin():
            conn.execute(sa.text("DELETE FROM reddit_submissions WHERE subreddit = 'x'"))
            thread = threading.Thread(target=start_run)
            thread.start()
            started.wait()
            thread.join(timeout=2)  # blocked behind this transaction, holding no other table
            conn.execute(sa.text("DELETE FROM reddit_comments WHERE subreddit = 'x'"))
        thread.join(timeout=60)
        assert not thread.is_alive()
        assert errors == []
    finally:
        loader.dispose()
        starter.dispose()


def test_replace_partition_loads_exact_rows(store):
    subs = [submission(f"s{i}", title=text, selftext=text, score=-(2**40) + i) for i, text in enumerate(TRICKY)]
    subs.append(
        submission(
            "snull",
            title=None,
            author=None,
            selftext=None,
            score=None,
            upvote_ratio=None,
            over_18=None,
            created_utc=None,
            link_flair_text="flair 🏷️",
        )
    )
    coms = [comment(f"c{i}", body=text, edited=T0 + 60 + i, is_submitter=bool(i % 2)) for i, text in enumerate(TRICKY)]
    coms.append(comment("cnull", link="s0", body=None, author=None, parent_id=None, depth=None, created_utc=None))
    doc = document(D1, submissions=subs, comments=coms)

    written = load(store, doc)

    subs_arrow, coms_arrow = normalize(doc)
    assert written == {"reddit_submissions": len(subs), "reddit_comments": len(coms)}
    assert read(store, SUBMISSIONS) == expected(subs_arrow)
    assert read(store, COMMENTS) == expected(coms_arrow)
    row = next(r for r in read(store, COMMENTS) if r["id"] == "c0")
    assert row["created_utc"] == dt.datetime.fromtimestamp(T0 + 1, tz=dt.UTC)
    assert row["created_utc"].utcoffset() == dt.timedelta(0)


def test_nul_characters_are_removed(store):
    load(
        store, document(D1, submissions=[submission("s1", title="a\x00b")], comments=[comment("c1", body="\x00x\x00")])
    )
    assert read(store, SUBMISSIONS)[0]["title"] == "ab"
    assert read(store, COMMENTS)[0]["body"] == "x"


def test_rerun_replaces_without_duplicates(store):
    doc = document(D1)
    first = load(store, doc)
    before = (read(store, SUBMISSIONS), read(store, COMMENTS))
    assert load(store, doc) == first
    assert (read(store, SUBMISSIONS), read(store, COMMENTS)) == before
    assert store.partition_counts(D1, "python") == (2, 2)  # the unique keys: no row twice

    load(store, document(D1, submissions=[submission("s1", score=99)], comments=[]))
    assert store.partition_counts(D1, "python") == (1, 0)
    assert [(r["id"], r["score"]) for r in read(store, SUBMISSIONS)] == [("s1", 99)]


def test_other_partitions_untouched(store):
    for date, sub in [(D1, "python"), (D1, "rust"), (D2, "python")]:
        load(store, document(date, sub))
    others = [(read(store, t, D1, "rust"), read(store, t, D2, "python")) for t in (SUBMISSIONS, COMMENTS)]

    load(store, document(D1, "python", submissions=[submission("s9")], comments=[comment("c9", link="s9")]))

    assert [(read(store, t, D1, "rust"), read(store, t, D2, "python")) for t in (SUBMISSIONS, COMMENTS)] == others
    assert store.partition_counts(D1, "python") == (1, 1)
    assert store.partition_counts(D1, "rust") == (2, 2)


def test_counts_by_partition_are_each_partitions_counts(store):
    for date, sub in [(D1, "python"), (D1, "rust"), (D2, "python")]:
        load(store, document(date, sub))
    load(store, document(D1, "rust", submissions=[submission("s9")], comments=[]))
    load(store, document(D2, "python", submissions=[], comments=[]))  # a partition without rows

    counts = store.counts_by_partition([D1, D2])
    assert counts == {(D1, "python"): (2, 2), (D1, "rust"): (1, 0)}
    assert counts[(D1, "rust")] == store.partition_counts(D1, "rust")
    assert store.counts_by_partition([D2]) == {} and store.counts_by_partition([]) == {}


def test_empty_tables_clear_the_partition(store):
    load(store, document(D1))
    assert load(store, document(D1, submissions=[], comments=[])) == {"reddit_submissions": 0, "reddit_comments": 0}
    assert store.partition_counts(D1, "python") == (0, 0)


def test_latest_views_give_newest_scrape_per_id(store):
    load(
        store,
        document(
            D1,
            "python",
            [submission("s1", score=1), submission("s2", score=2)],
            [comment("c1", score=1)],
            scraped_at="2026-03-01T23:30:00+00:00",
        ),
    )
    load(
        store,
        document(
            D2,
            "python",
            [submission("s1", score=10)],
            [comment("c1", score=10)],
            scraped_at="2026-03-02T23:30:00+00:00",
        ),
    )
    # Same date, another partition, scraped later: wins the tie on scrape_date.
    load(store, document(D2, "rust", [submission("s1", score=20)], [], scraped_at="2026-03-02T23:45:00.000001+00:00"))
    # Older date but scraped later still loses: newest scrape_date comes first.
    load(
        store,
        document(
            dt.date(2026, 2, 1), "python", [submission("s2", score=0)], [], scraped_at="2026-03-05T00:00:00+00:00"
        ),
    )

    subs = read(store, SUBMISSIONS_LATEST)
    assert sorted((r["id"], r["score"], r["scrape_date"]) for r in subs) == [("s1", 20, D2), ("s2", 2, D1)]
    newest_s1 = next(r for r in subs if r["id"] == "s1")
    assert newest_s1["subreddit"] == "rust"
    assert newest_s1["scraped_at"] == dt.datetime(2026, 3, 2, 23, 45, 0, 1, tzinfo=dt.UTC)
    assert [(r["id"], r["score"]) for r in read(store, COMMENTS_LATEST)] == [("c1", 10)]


def test_failed_load_rolls_back(store):
    load(store, document(D1))
    before = (read(store, SUBMISSIONS), read(store, COMMENTS))
    subs, coms = normalize(document(D1, submissions=[submission("new")], comments=[comment("dup"), comment("x")]))
    coms = pa.concat_tables([coms, coms.slice(0, 1)])  # duplicate id inside the new rows

    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        store.replace_partition(D1, "python", subs, coms)

    assert (read(store, SUBMISSIONS), read(store, COMMENTS)) == before
    load(store, document(D1, submissions=[submission("after")], comments=[]))  # the store still works
    assert store.partition_counts(D1, "python") == (1, 0)


def test_rows_of_another_partition_are_refused(store):
    subs, coms = normalize(document(D2))
    with pytest.raises(ValueError, match="outside partition"):
        store.replace_partition(D1, "python", subs, coms)
    with pytest.raises(ValueError, match="subreddit"):
        store.replace_partition(D2, "rust", subs, coms)


def test_counts_per_table_and_many_partitions_at_once(store):
    assert store.partition_counts(D1, "python") == (0, 0)
    # A comment may share a submission's id (Reddit numbers t1 and t3 things apart): both rows load.
    load(store, document(D1, submissions=[submission("s1"), submission("zz")], comments=[comment("zz"), comment("c2")]))
    load(store, document(D1, "rust"))
    assert store.partition_counts(D1, "python") == (2, 2)
    many = store.partitions_counts([(D1, "python"), (D1, "rust"), (D2, "python")])
    assert many[(D1, "python")] == (2, 2) and many[(D2, "python")] == (0, 0)
    assert many[(D1, "rust")] == store.partition_counts(D1, "rust")


def test_sqlite_writers_in_parallel(tmp_path):
    url = f"sqlite:///{tmp_path}/reddit.db"
    stores = [TableStore(url) for _ in range(2)]
    for s in stores:
        s.ensure_schema()
    errors = []

    def run(s, sub):
        try:
            for _ in range(5):
                load(s, document(D1, sub))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s, sub)) for s, sub in zip(stores, ["python", "rust"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stores[0].partition_counts(D1, "rust") == (2, 2)
    with stores[0].engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    for s in stores:
        s.dispose()


def test_urls_and_redaction(tmp_path):
    assert normalize_url("postgres://u:secret@h/db").drivername == "postgresql"
    assert normalize_url("postgres+psycopg://u:secret@h/db").drivername == "postgresql+psycopg"
    store = TableStore("postgres://user:secret@db.example.com:5432/reddit")  # no connection is made
    assert "secret" not in store.redacted_url() and "secret" not in repr(store)
    assert store.redacted_url() == "postgresql://user:***@db.example.com:5432/reddit"
    assert store.engine.dialect.driver == "psycopg2"
    with pytest.raises(ValueError, match="unsupported"):
        TableStore("mysql://u@h/db")
    TableStore(f"sqlite:///{tmp_path}/a/b/reddit.db").ensure_schema()
    assert (tmp_path / "a" / "b" / "reddit.db").exists()


def test_database_resource(tmp_path):
    resource = DatabaseResource(url=f"sqlite:///{tmp_path}/reddit.db")
    assert resource.kind() == "sqlite"
    assert resource.store() is resource.store()
    assert DatabaseResource(url="postgres://u:p@h/db").kind() == "postgres"
    assert DatabaseResource(url="postgresql+psycopg://u@h/db").kind() == "postgres"
    assert "SQLite" in (DatabaseResource.__doc__ or "")


def test_database_resource_in_a_dagster_run(tmp_path):
    import dagster as dg

    @dg.asset
    def counts(database: DatabaseResource) -> None:
        store = database.store()
        store.ensure_schema()
        load(store, document(D1))
        assert store.partition_counts(D1, "python") == (2, 2)

    result = dg.materialize([counts], resources={"database": DatabaseResource(url=f"sqlite:///{tmp_path}/r.db")})
    assert result.success
    assert TableStore(f"sqlite:///{tmp_path}/r.db").partition_counts(D1, "python") == (2, 2)


def test_a_postgresql_driver_without_copy_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unsupported PostgreSQL driver 'pg8000': use postgresql\+psycopg://"):
        TableStore("postgresql+pg8000://user@db.example.com/reddit")
