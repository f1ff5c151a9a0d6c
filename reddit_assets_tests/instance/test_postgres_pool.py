"""The PostgreSQL instance storage keeps its connections open between queries, survives a
server that dropped them, lets a forked child use its own, and closes them on dispose."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest

from reddit_assets.instance.postgres import POOL, BatchingPostgresStorage
from reddit_assets_tests.fixtures.postgres import admin_connection

pytestmark = pytest.mark.integration


def _backends(database: str) -> set[tuple]:
    """The server's sessions on `database` (pid, start time)."""
    with admin_connection() as conn:
        rows = conn.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return set(rows)


def _backends_once_closed(database: str, timeout: float = 5.0) -> set[tuple]:
    """`_backends`, given the server a moment: a backend leaves pg_stat_activity shortly after
    its client closed the connection, not at once."""
    deadline = time.monotonic() + timeout
    while (backends := _backends(database)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return backends


def _query_every_storage(storage: BatchingPostgresStorage, times: int = 1) -> None:
    for _ in range(times):
        storage.run_storage.get_runs(limit=1)
        storage.event_log_storage.get_latest_materialization_events([dg.AssetKey("nothing")])
        storage.schedule_storage.all_instigator_state()


def _dispose(storage: BatchingPostgresStorage) -> None:
    """What the instance's dispose does with a custom storage: each of its three storages."""
    for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
        part.dispose()


@pytest.fixture
def storage(postgres_url_psycopg2):
    storage = BatchingPostgresStorage(postgres_url_psycopg2)
    yield storage
    _dispose(storage)


def test_queries_reuse_a_few_open_connections(storage, postgres_database):
    assert _backends_once_closed(postgres_database) == set()  # table creation's connections are closed
    _query_every_storage(storage)
    opened = _backends(postgres_database)
    assert 1 <= len(opened) <= 3 * POOL["pool_size"]
    _query_every_storage(storage, times=50)
    assert _backends(postgres_database) == opened


def test_a_connection_the_server_dropped_is_replaced_before_use(storage, postgres_database):
    _query_every_storage(storage)
    with admin_connection() as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (postgres_database,))
    _query_every_storage(storage)  # no error: the dead connections are pinged and replaced
    assert _backends(postgres_database)


def test_a_forked_child_uses_its_own_connections(storage, postgres_database):
    _query_every_storage(storage)
    parents = _backends(postgres_database)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child queries through the storage it inherited, then exits hard
        code = 1
        try:
            _query_every_storage(storage)
            code = 0 if _backends(postgres_database) - parents else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(code)
    os.close(write)
    assert os.read(read, 1) == b"\x00"
    os.waitpid(pid, 0)
    assert parents <= _backends(postgres_database)  # the child neither used nor closed them
    _query_every_storage(storage, times=5)  # and the parent's still work
    assert parents <= _backends(postgres_database)


def test_dispose_closes_the_connections(postgres_url_psycopg2, postgres_database):
    storage = BatchingPostgresStorage(postgres_url_psycopg2)
    _query_every_storage(storage)
    assert _backends(postgres_database)
    _dispose(storage)
    assert _backends_once_closed(postgres_database) == set()
