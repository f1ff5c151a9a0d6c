"""Readers of the PostgreSQL event log move a cursor to the highest storage id they see, so a
batch's events must not become visible after an event with a later id: while a batch is
open, no other event is inserted, and readers still read."""

from __future__ import annotations

import threading

import pytest
from dagster import DagsterEventType

from reddit_assets.instance.postgres import BatchingPostgresEventLogStorage
from reddit_assets_tests.instance.events import run_event

pytestmark = pytest.mark.integration

RUN_ID = "0f0f0f0f-0000-4000-8000-000000000002"


def _step_event():
    return run_event(DagsterEventType.STEP_START, None, RUN_ID, step_key="s")


def test_no_event_is_inserted_while_a_batch_is_open(postgres_url_psycopg2):
    storage = BatchingPostgresEventLogStorage(postgres_url_psycopg2)
    other = BatchingPostgresEventLogStorage(postgres_url_psycopg2)  # another process's writer
    try:
        other.store_event(_step_event())
        before = other.get_maximum_record_id()
        inserted = threading.Event()

        def insert_one() -> None:
            other.store_event(_step_event())
            inserted.set()

        with storage.joined_index_transaction():
            writer = threading.Thread(target=insert_one)
            writer.start()
            assert not inserted.wait(1.0)  # the other writer waits for the batch's commit ...
            assert other.get_maximum_record_id() == before  # ... while readers go on reading
        assert inserted.wait(10)
        writer.join()
        assert other.get_maximum_record_id() > before
    finally:
        storage.dispose()
        other.dispose()
