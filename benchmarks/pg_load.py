"""PostgreSQL load: our path (normalize + TableStore.replace_partition, COPY inside) against
(a) a raw COPY of the same rows, pre-formatted in memory (the limit), and
(b) row-by-row INSERT, one statement per row, committing per partition (a naive Celery task).

Every run loads into freshly truncated tables of the same schema (primary key + index).
Row-by-row is timed on a sample of the rows (it is per-row constant, and the whole set
would take minutes); its rows/s is what is compared.
"""

from __future__ import annotations

import time

import pyarrow as pa
import pyarrow.csv as pacsv

from benchmarks.common import Result, Row, Sizes, median, pg_connect, pg_url, rate, scratch_postgres, side_by_side
from benchmarks.data import big_partition, partition_of, row_count, small_partitions
from reddit_assets.files.normalize import normalize
from reddit_assets.storage.tables import COMMENTS_TABLE, SUBMISSIONS_TABLE, TableStore

NAME = "pg_load"
_TABLES = (SUBMISSIONS_TABLE, COMMENTS_TABLE)
_COPY_BLOCK = 1 << 20


def _csv(table: pa.Table) -> bytes:
    """PostgreSQL CSV COPY data of a normalized table (timestamps as naive UTC)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp(f.type.unit)))
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


def _rows(table: pa.Table, limit: int | None = None) -> list[tuple]:
    if limit is not None:
        table = table.slice(0, limit)
    return list(zip(*(c.to_pylist() for c in table.columns)))


class _Shape:
    """One data shape loaded three ways against one database."""

    def __init__(self, label: str, documents: list[dict], database: str, sample_rows: int):
        self.label = label
        self.documents = documents
        self.rows = sum(row_count(d) for d in documents)
        self.store = TableStore(pg_url(database))
        self.store.ensure_schema()
        self.admin = pg_connect(database, autocommit=True)
        self.conn = pg_connect(database)
        tables = [normalize(d) for d in documents]
        self.columns = [t.column_names for t in tables[0]]
        self.copy_data = [[_csv(t) for t in pair] for pair in tables]
        # The row-by-row sample: whole partitions (or the first rows of one) up to sample_rows.
        self.sample, self.sample_rows = [], 0
        for pair in tables:
            left = sample_rows - self.sample_rows
            if left <= 0:
                break
            subs = _rows(pair[0], left)
            comments = _rows(pair[1], max(0, left - len(subs)))
            self.sample.append((subs, comments))
            self.sample_rows += len(subs) + len(comments)
        self.normalize_seconds: list[float] = []
        self.load_seconds: list[float] = []

    def truncate(self, _name: str) -> None:
        self.admin.execute(f"TRUNCATE {', '.join(_TABLES)}")

    def ours(self) -> float:
        normalize_s = load_s = 0.0
        for document in self.documents:
            t0 = time.perf_counter()
            submissions, comments = normalize(document)
            t1 = time.perf_counter()
            self.store.replace_partition(*partition_of(document), submissions, comments)
            t2 = time.perf_counter()
            normalize_s += t1 - t0
            load_s += t2 - t1
        self.normalize_seconds.append(normalize_s)
        self.load_seconds.append(load_s)
        return normalize_s + load_s

    def copy(self) -> None:
        with self.conn.cursor() as cur:
            for pair in self.copy_data:
                cur.execute("SET LOCAL TIME ZONE 'UTC'")
                for table, columns, data in zip(_TABLES, self.columns, pair):
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)") as copy:
                        view = memoryview(data)
                        for start in range(0, len(view), _COPY_BLOCK):
                            copy.write(view[start : start + _COPY_BLOCK])
                self.conn.commit()

    def row_by_row(self) -> None:
        statements = [
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
            for table, columns in zip(_TABLES, self.columns)
        ]
        with self.conn.cursor() as cur:
            for pair in self.sample:
                for statement, rows in zip(statements, pair):
                    for row in rows:
                        cur.execute(statement, row)
                self.conn.commit()

    def close(self) -> None:
        self.admin.close()
        self.conn.close()
        self.store.dispose()


def run(sizes: Sizes) -> Result:
    result = Result()
    if sizes.quick:
        shapes = [
            ("1 x (100 + 20,000)", [big_partition(100, 20_000)]),
            ("20 x 2,000", list(small_partitions(20, 2_000))),
        ]
        sample = 4_000
    else:
        shapes = [
            ("1 x (1,000 + 200,000)", [big_partition(1_000, 200_000)]),
            ("100 x 2,000", list(small_partitions(100, 2_000))),
        ]
        sample = 20_000
    with scratch_postgres("reddit_bench_pg") as database:
        for label, documents in shapes:
            shape = _Shape(label, documents, database, sample)
            try:
                times = side_by_side(
                    {"ours": shape.ours, "copy": shape.copy, "row": shape.row_by_row}, sizes.reps, shape.truncate
                )
            finally:
                shape.close()
            ours = shape.rows / median(times["ours"])
            copy = shape.rows / median(times["copy"])
            row = shape.sample_rows / median(times["row"])
            bench = f"PG load {label} rows"
            result.rows.append(
                Row(bench, "rows/s vs raw COPY", rate(ours), rate(copy), ours / copy, ">= 0.5", ours / copy >= 0.5)
            )
            result.rows.append(
                Row(
                    bench,
                    "rows/s vs row-by-row INSERT",
                    rate(ours),
                    rate(row),
                    ours / row,
                    ">= 20",
                    ours / row >= 20,
                    ratio_text=f"{ours / row:.1f}x",
                )
            )
            result.notes.append(
                f"PG load {label}: ours median {median(times['ours']):.2f} s = normalize {median(shape.normalize_seconds):.2f} s"
                f" + replace_partition {median(shape.load_seconds):.2f} s (alone: {median(times['copy']) / median(shape.load_seconds):.2f}"
                f" of raw COPY); raw COPY {median(times['copy']):.2f} s ({median(times['row']) / shape.sample_rows * shape.rows / median(times['copy']):.1f}x row-by-row);"
                f" row-by-row {median(times['row']):.2f} s for a sample of {shape.sample_rows:,} rows"
            )
    return result
