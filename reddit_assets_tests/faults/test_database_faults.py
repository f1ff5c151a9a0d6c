"""PostgreSQL faults: the server unreachable, and a connection cut in the middle of a COPY.

Expected: the database step retries and then fails with a clear message, the archive
branch of the same run succeeds, no half-loaded partition is ever visible (old rows stay
until the new ones commit), and a rerun leaves exactly the raw file's rows.
"""

import threading

import psycopg
import pytest

from reddit_assets.files.raw_file import write_raw_file
from reddit_assets_tests.faults.pg import wait_for_copy, wait_until_gone
from reddit_assets_tests.faults.servers import TcpProxy
from reddit_assets_tests.faults.support import (
    failure_messages,
    key,
    raw_path,
    read_raw,
    retry_count,
    run,
    synthetic_document,
    table_counts,
    table_ids,
    today,
)
from reddit_assets_tests.fixtures.postgres import PG_HOST, PG_PORT, PG_USER, postgres_url_for
from reddit_assets_tests.harness import configure, materialization_metadata

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

DB_STEP = "database_tables"


def test_postgres_unreachable_then_back(monkeypatch, tmp_path, reddit_server, instance, postgres_database):
    proxy = TcpProxy(PG_HOST, PG_PORT)  # not started: its port refuses connections
    url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{proxy.port}/{postgres_database}?connect_timeout=3"
    defs = configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        database_url=url,
        subreddits=[{"name": "dbdown", "n_results": 6}],
    )
    result = run(defs, "daily_scrape_job", key("dbdown"), instance)
    assert not result.success
    assert {e.step_key for e in result.get_step_failure_events()} == {DB_STEP}
    assert retry_count(result, DB_STEP) == 2
    message = failure_messages(result, DB_STEP)[-1]
    assert "Connection refused" in message and str(proxy.port) in message
    assert materialization_metadata(instance, "reddit/r2_archive", key("dbdown"))["uploaded"] is True

    with proxy:
        assert run(defs, "database_only_job", key("dbdown"), instance).success
    raw = read_raw(tmp_path, "dbdown")
    assert table_counts(postgres_url_for(postgres_database), "dbdown") == (
        raw["submission_count"],
        raw["comment_count"],
    )


def test_connection_terminated_mid_copy_keeps_old_rows_and_retry_loads(
    monkeypatch, tmp_path, reddit_server, instance, postgres_database
):
    url = postgres_url_for(postgres_database)
    defs = configure(
        monkeypatch, tmp_path, reddit_url=reddit_server.url, database_url=url, subreddits=[{"name": "cutload"}]
    )
    path = raw_path(tmp_path, "cutload")
    write_raw_file(path, synthetic_document("cutload", today(), 20, 300, prefix="old"))
    assert run(defs, "database_only_job", key("cutload"), instance).success
    old = {t: table_ids(url, t, "cutload") for t in ("reddit_submissions", "reddit_comments")}
    assert (len(old["reddit_submissions"]), len(old["reddit_comments"])) == (20, 300)

    new_doc = synthetic_document("cutload", today(), 500, 30_000, prefix="new")
    write_raw_file(path, new_doc)
    seen = {}
    done = threading.Event()

    def cut_once():
        pids = wait_for_copy(postgres_database, "reddit_comments", stop=done.is_set)
        if not pids:
            return
        with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        wait_until_gone(postgres_database, pids)
        # Between the cut and the retry: the partition is still exactly the old rows.
        seen["between"] = {t: table_ids(url, t, "cutload") for t in old}

    cutter = threading.Thread(target=cut_once, daemon=True)
    cutter.start()
    result = run(defs, "database_only_job", key("cutload"), instance)
    done.set()
    cutter.join(timeout=30)

    assert seen.get("between") == old, "the COPY was not cut, or a partial partition was visible"
    assert retry_count(result, DB_STEP) == 1
    assert "connection is lost" in failure_messages(result, DB_STEP)[0]
    assert result.success  # the RetryPolicy's second attempt loaded it
    assert table_counts(url, "cutload") == (500, 30_000)
    assert table_ids(url, "reddit_comments", "cutload") == {c["id"] for c in new_doc["comments"]}
