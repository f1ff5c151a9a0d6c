"""Watching PostgreSQL from the side while a load runs: which backends are in a COPY."""

from __future__ import annotations

import time

import psycopg

from reddit_assets_tests.fixtures.postgres import PG_HOST, PG_PORT, PG_USER


def active_copy_pids(database: str, table: str) -> list[int]:
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND query ILIKE %s",
            (database, f"COPY {table} %"),
        ).fetchall()
    return [r[0] for r in rows]


def wait_for_copy(database: str, table: str, timeout: float = 120, stop=lambda: False) -> list[int]:
    """Poll pg_stat_activity until a COPY into `table` is running; its backend pids."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop():
        pids = active_copy_pids(database, table)
        if pids:
            return pids
        time.sleep(0.005)
    return []


def wait_until_gone(database: str, pids: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        while time.monotonic() < deadline:
            alive = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()[0]
            if not alive:
                return
            time.sleep(0.05)
    raise AssertionError(f"backends {pids} of {database} still running after {timeout} s")
