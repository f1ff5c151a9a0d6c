"""SQLite load: our path (normalize + TableStore.replace_partition) against the limit,
`executemany` of the same rows, pre-built as Python tuples, in one transaction per partition.

Both write the same schema in a fresh database file (WAL, as TableStore sets it) each run.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from benchmarks.common import Result, Row, Sizes, median, rate, side_by_side
from benchmarks.data import big_partition, partition_of, row_count, small_partitions
from reddit_assets.files.normalize import normalize
from reddit_assets.storage.tables import COMMENTS_TABLE, SUBMISSIONS_TABLE, TableStore

NAME = "sqlite_load"


def _sqlite_values(table: pa.Table) -> list[tuple]:
    """Rows as SQLAlchemy stores them in SQLite: dates and naive UTC timestamps as text."""
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp(column.type.unit)).cast(pa.string())
        elif pa.types.is_date(column.type):
            column = column.cast(pa.string())
        columns.append(column.to_pylist())
    return list(zip(*columns))


class _Shape:
    def __init__(self, documents: list[dict], workdir: Path):
        self.documents = documents
        self.rows = sum(row_count(d) for d in documents)
        self.workdir = workdir
        tables = [normalize(d) for d in documents]
        self.columns = [t.column_names for t in tables[0]]
        self.values = [[_sqlite_values(t) for t in pair] for pair in tables]
        self.store: TableStore | None = None
        self.path: Path | None = None
        self.runs = 0
        self.normalize_seconds: list[float] = []

    def fresh_database(self, _name: str) -> None:
        if self.store is not None:
            self.store.dispose()
        self.runs += 1
        self.path = self.workdir / f"run{self.runs}.db"
        self.store = TableStore(f"sqlite:///{self.path}")
        self.store.ensure_schema()

    def ours(self) -> None:
        normalize_s = 0.0
        for document in self.documents:
            t0 = time.perf_counter()
            submissions, comments = normalize(document)
            normalize_s += time.perf_counter() - t0
            self.store.replace_partition(*partition_of(document), submissions, comments)
        self.normalize_seconds.append(normalize_s)

    def executemany(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            statements = [
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                for table, columns in zip((SUBMISSIONS_TABLE, COMMENTS_TABLE), self.columns)
            ]
            for pair in self.values:
                conn.execute("BEGIN")
                for statement, rows in zip(statements, pair):
                    conn.executemany(statement, rows)
                conn.execute("COMMIT")
        finally:
            conn.close()

    def close(self) -> None:
        if self.store is not None:
            self.store.dispose()


def run(sizes: Sizes) -> Result:
    result = Result()
    if sizes.quick:
        shapes = [
            ("1 x (100 + 20,000)", [big_partition(100, 20_000)]),
            ("20 x 2,000", list(small_partitions(20, 2_000))),
        ]
    else:
        shapes = [
            ("1 x (1,000 + 200,000)", [big_partition(1_000, 200_000)]),
            ("100 x 2,000", list(small_partitions(100, 2_000))),
        ]
    with tempfile.TemporaryDirectory(prefix="reddit-bench-sqlite-") as tmp:
        for label, documents in shapes:
            shape = _Shape(documents, Path(tmp))
            try:
                times = side_by_side(
                    {"ours": shape.ours, "executemany": shape.executemany}, sizes.reps, shape.fresh_database
                )
            finally:
                shape.close()
            ours = shape.rows / median(times["ours"])
            base = shape.rows / median(times["executemany"])
            result.rows.append(
                Row(
                    f"SQLite load {label} rows",
                    "rows/s vs executemany, 1 txn",
                    rate(ours),
                    rate(base),
                    ours / base,
                    ">= 0.5",
                    ours / base >= 0.5,
                )
            )
            norm = median(shape.normalize_seconds)
            result.notes.append(
                f"SQLite load {label}: ours median {median(times['ours']):.2f} s, of which normalize {norm:.2f} s;"
                f" executemany {median(times['executemany']):.2f} s;"
                f" replace_partition alone {shape.rows / max(1e-9, median(times['ours']) - norm):,.0f} rows/s"
                f" = {median(times['executemany']) / max(1e-9, median(times['ours']) - norm):.2f} of executemany"
            )
    return result
