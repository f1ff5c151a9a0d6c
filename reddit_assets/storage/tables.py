"""The database tables: schema, `_latest` views, and partition loads.

One partition (date x subreddit) is replaced in one transaction: delete its rows, then
bulk-load the new ones (COPY on PostgreSQL, executemany on SQLite). A failure rolls
back and leaves the old rows; a rerun with the same input leaves the same rows.

NUL characters are removed from text before loading: PostgreSQL text cannot hold them,
and stripping them on every backend keeps SQLite and PostgreSQL rows identical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from reddit_assets.files.normalize import COMMENT_SCHEMA, SUBMISSION_SCHEMA
from reddit_assets.files.second_pass_rows import SECOND_PASS_SCHEMA

SUBMISSIONS_TABLE = "reddit_submissions"
COMMENTS_TABLE = "reddit_comments"
SUBMISSIONS_LATEST_VIEW = "reddit_submissions_latest"
COMMENTS_LATEST_VIEW = "reddit_comments_latest"
SECOND_PASS_TABLE = "reddit_second_pass"
SUBMISSIONS_THEN_AND_NOW_VIEW = "reddit_submissions_then_and_now"
COMMENTS_THEN_AND_NOW_VIEW = "reddit_comments_then_and_now"

PARTITION_KEY = ("scrape_date", "subreddit", "id")
SQLITE_BUSY_TIMEOUT_MS = 60_000
# pg_advisory_xact_lock key serializing ensure_schema across processes.
_SCHEMA_LOCK_KEY = 0x7265646469740001
_COPY_DRIVERS = ("psycopg", "psycopg2")  # the drivers whose COPY the loaders use
_COPY_CHUNK_BYTES = 1 << 20


class _UtcDateTime(sa.types.TypeDecorator):
    """TIMESTAMP WITH TIME ZONE that reads back as UTC-aware datetimes on every backend.

    SQLite has no time zones: values are stored as naive UTC text.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _sql_type(arrow_type: pa.DataType) -> sa.types.TypeEngine:
    if pa.types.is_timestamp(arrow_type):
        return _UtcDateTime()
    types: dict[pa.DataType, sa.types.TypeEngine] = {
        pa.date32(): sa.Date(),
        pa.string(): sa.Text(),
        pa.int64(): sa.BigInteger(),
        pa.int32(): sa.Integer(),
        pa.float64(): sa.Double(),
        pa.bool_(): sa.Boolean(),
    }
    return types[arrow_type]


def _columns(schema: pa.Schema, *, constraints: bool) -> list[sa.Column]:
    not_null = set(PARTITION_KEY) | {"scraped_at"}
    return [sa.Column(f.name, _sql_type(f.type), nullable=not (constraints and f.name in not_null)) for f in schema]


metadata = sa.MetaData()


def _table(name: str, schema: pa.Schema) -> sa.Table:
    table = sa.Table(
        name,
        metadata,
        *_columns(schema, constraints=True),
        sa.PrimaryKeyConstraint(*PARTITION_KEY, name=f"pk_{name}"),
    )
    # Serves the `_latest` views: newest scrape of each id.
    sa.Index(f"ix_{name}_id_newest", table.c.id, table.c.scrape_date.desc(), table.c.scraped_at.desc())
    return table


SUBMISSIONS = _table(SUBMISSIONS_TABLE, SUBMISSION_SCHEMA)
COMMENTS = _table(COMMENTS_TABLE, COMMENT_SCHEMA)

# The views as selectable tables (for reading with proper types); never created by metadata.
_view_metadata = sa.MetaData()
SUBMISSIONS_LATEST = sa.Table(SUBMISSIONS_LATEST_VIEW, _view_metadata, *_columns(SUBMISSION_SCHEMA, constraints=False))
COMMENTS_LATEST = sa.Table(COMMENTS_LATEST_VIEW, _view_metadata, *_columns(COMMENT_SCHEMA, constraints=False))

# One row per item asked in a day's second pass; no `_latest` view (a scrape day has one second pass).
SECOND_PASS = sa.Table(
    SECOND_PASS_TABLE,
    metadata,
    *_columns(SECOND_PASS_SCHEMA, constraints=True),
    sa.PrimaryKeyConstraint(*PARTITION_KEY, name=f"pk_{SECOND_PASS_TABLE}"),
)

_LOADS = ((SUBMISSIONS, SUBMISSION_SCHEMA), (COMMENTS, COMMENT_SCHEMA))
_VIEWS = (
    (SUBMISSIONS_LATEST_VIEW, SUBMISSIONS_TABLE, SUBMISSION_SCHEMA),
    (COMMENTS_LATEST_VIEW, COMMENTS_TABLE, COMMENT_SCHEMA),
)


def _view_select(table_name: str, schema: pa.Schema) -> str:
    # ROW_NUMBER() rather than DISTINCT ON: the same SQL runs on SQLite and PostgreSQL.
    columns = ", ".join(schema.names)
    return (
        f"SELECT {columns} FROM ("
        f"SELECT {columns}, ROW_NUMBER() OVER ("
        "PARTITION BY id ORDER BY scrape_date DESC, scraped_at DESC, subreddit"
        f") AS newest FROM {table_name}"
        ") ranked WHERE newest = 1"
    )


def _then_and_now_select(table_name: str, kind: str, text: str, extra: dict[str, str]) -> str:
    """Each scraped item beside its second-pass state (second_* columns null until the second pass ran)."""
    pairs = {"author": "author", "score": "score", "text": text, "stickied": "stickied", **extra}
    side_by_side = ", ".join(f"f.{first} AS first_{name}, p.{name} AS second_{name}" for name, first in pairs.items())
    return (
        f"SELECT f.scrape_date, f.subreddit, f.id, f.scraped_at, p.fetched_at, {side_by_side}, "
        "p.score - f.score AS score_change, p.returned, p.removed, p.removed_by, p.deleted, p.edited, "
        "p.edited_utc, (p.edited_utc IS NOT NULL AND p.edited_utc > f.scraped_at) AS edited_after_scrape "
        f"FROM {table_name} f LEFT JOIN {SECOND_PASS_TABLE} p ON p.scrape_date = f.scrape_date "
        f"AND p.subreddit = f.subreddit AND p.id = f.id AND p.kind = '{kind}'"
    )


def _view_definitions() -> list[tuple[str, str]]:
    """(view, SELECT) of every view, in the order they are created."""
    submission_extra = {
        "title": "title",
        "upvote_ratio": "upvote_ratio",
        "num_comments": "num_comments",
        "locked": "locked",
    }
    return [
        *((view, _view_select(table_name, schema)) for view, table_name, schema in _VIEWS),
        (
            SUBMISSIONS_THEN_AND_NOW_VIEW,
            _then_and_now_select(SUBMISSIONS_TABLE, "submission", "selftext", submission_extra),
        ),
        (COMMENTS_THEN_AND_NOW_VIEW, _then_and_now_select(COMMENTS_TABLE, "comment", "body", {})),
    ]


def normalize_url(url: str | sa.URL) -> sa.URL:
    """Parse a SQLAlchemy URL; Heroku-style `postgres://` becomes `postgresql://`."""
    url = sa.make_url(url)
    backend, plus, driver = url.drivername.partition("+")
    if backend == "postgres":
        url = url.set(drivername="postgresql" + plus + driver)
    return url


def database_kind(url: str | sa.URL) -> str:
    """ "postgres" or "sqlite"; ValueError for any other database."""
    backend = normalize_url(url).get_backend_name()
    if backend == "postgresql":
        return "postgres"
    if backend == "sqlite":
        return "sqlite"
    raise ValueError(f"unsupported database {backend!r}: use a postgresql:// or sqlite:/// URL")


def _sqlite_file(url: sa.URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(database)


def _conform(table: pa.Table, schema: pa.Schema, date: dt.date, subreddit: str) -> pa.Table:
    """The table in `schema`'s column order and types, NULs stripped; refuse rows of another partition."""
    table = table.select(schema.names).cast(schema)
    for name, value in (("scrape_date", date), ("subreddit", subreddit)):
        column = table.column(name)
        if column.null_count or (len(column) and not pc.all(pc.equal(column, pa.scalar(value, column.type))).as_py()):
            raise ValueError(f"rows outside partition {date.isoformat()}|{subreddit}: column {name!r} differs")
    for i, field in enumerate(schema):
        if pa.types.is_string(field.type):
            table = table.set_column(i, field, pc.replace_substring(table.column(i), "\x00", ""))
    return table


def _naive_utc(table: pa.Table) -> pa.Table:
    # Formatting zone-aware timestamps is ~10x slower in Arrow; the values are UTC already.
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp(field.type.unit)))
    return table


def _csv_chunks(table: pa.Table, rows_per_chunk: int = 8_192):
    """PostgreSQL CSV COPY data, one chunk per batch so the server ingests while we format.

    Arrow's CSV writer quotes every string and leaves NULL unquoted and empty, which is
    PostgreSQL's CSV convention. Timestamps are naive UTC: the COPY runs with TIME ZONE UTC.
    """
    options = pacsv.WriteOptions(include_header=False)
    for batch in _naive_utc(table).to_batches(max_chunksize=rows_per_chunk):
        sink = pa.BufferOutputStream()
        pacsv.write_csv(batch, sink, options)
        yield sink.getvalue()


class _ChunkReader:
    """A file-like `read(size)` over byte chunks, for psycopg2's copy_expert."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._chunk = memoryview(b"")
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            rest = [self._chunk[self._offset :].tobytes(), *(bytes(c) for c in self._chunks)]
            self._chunk, self._offset = memoryview(b""), 0
            return b"".join(rest)
        while self._offset >= len(self._chunk):
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._chunk, self._offset = memoryview(chunk), 0
        out = self._chunk[self._offset : self._offset + size].tobytes()
        self._offset += len(out)
        return out


def _sqlite_rows(table: pa.Table, rows_per_batch: int = 8_192):
    """Row tuples for executemany, made one batch at a time: a whole partition's tuples
    would take several times the memory of its Arrow table."""
    for batch in _naive_utc(table).to_batches(max_chunksize=rows_per_batch):
        columns = []
        for column in batch.columns:
            if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
                # `YYYY-MM-DD HH:MM:SS.ffffff`: SQLAlchemy's SQLite DATETIME text, which sorts by time.
                column = column.cast(pa.string())
            columns.append(column.to_pylist())
        yield from zip(*columns)


def _driver_connection(conn: sa.Connection) -> Any:
    """The driver's own connection under `conn` (sqlite3's or psycopg's), in its transaction:
    what the bulk inserts use of the driver is its own, not the DBAPI's common part."""
    driver = conn.connection.dbapi_connection
    if driver is None:  # only once SQLAlchemy has invalidated the connection
        raise sa.exc.InvalidRequestError("the database connection was invalidated")
    return driver


def _partition_lock_key(date: dt.date, subreddit: str) -> int:
    digest = hashlib.blake2b(f"{date.isoformat()}|{subreddit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PartitionCounts(NamedTuple):
    """One partition's rows per table."""

    submissions: int
    comments: int


class TableStore:
    """The Reddit tables in one database (PostgreSQL or SQLite), over one SQLAlchemy engine."""

    def __init__(self, url: str | sa.URL):
        self.url = normalize_url(url)
        self.kind = database_kind(self.url)
        if self.kind == "sqlite":
            path = _sqlite_file(self.url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(self.url)
            sa.event.listen(self.engine, "connect", _sqlite_on_connect)
            sa.event.listen(self.engine, "begin", _sqlite_on_begin)
        else:
            if self.url.get_driver_name() not in _COPY_DRIVERS:
                raise ValueError(
                    f"unsupported PostgreSQL driver {self.url.get_driver_name()!r}: use postgresql+psycopg:// "
                    "or postgresql+psycopg2:// (the tables are bulk-loaded with COPY)"
                )
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, connect_args={"client_encoding": "utf8"})

    def __repr__(self) -> str:
        return f"TableStore({self.redacted_url()!r})"

    def redacted_url(self) -> str:
        """The URL with its password masked, safe to log."""
        return self.url.render_as_string(hide_password=True)

    def _write(self):
        """A transaction that holds the write lock from its start (BEGIN IMMEDIATE on SQLite)."""
        return self.engine.connect().execution_options(reddit_begin_immediate=True)

    def ensure_schema(self) -> None:
        """Create the tables, indexes and `_latest` views if missing. Idempotent; safe to race."""
        if self.kind != "postgres":
            with self._write() as conn, conn.begin():
                self._create_schema(conn)
            return
        # Each statement commits on its own: one transaction for them all held one table's lock
        # while waiting for the other's, and deadlocked with a run loading a partition (which
        # holds both tables, in the other order) whenever runs started at the same moment.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Concurrent CREATE ... IF NOT EXISTS can still collide in PostgreSQL's catalogs.
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            try:
                self._create_schema(conn)
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK_KEY})

    def _create_schema(self, conn: sa.Connection) -> None:
        for table in metadata.sorted_tables:
            conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
            for index in table.indexes:
                conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))
        for view, select in _view_definitions():
            if self.kind == "postgres":
                conn.execute(sa.text(f"CREATE OR REPLACE VIEW {view} AS {select}"))
            else:
                conn.execute(sa.text(f"DROP VIEW IF EXISTS {view}"))
                conn.execute(sa.text(f"CREATE VIEW {view} AS {select}"))

    def replace_partition(
        self, date: dt.date, subreddit: str, submissions: pa.Table, comments: pa.Table
    ) -> dict[str, int]:
        """Replace one partition's rows in both tables in one transaction.

        Returns the rows written per table: {"reddit_submissions": n, "reddit_comments": m}.
        """
        return self._replace(date, subreddit, [(*load, rows) for load, rows in zip(_LOADS, (submissions, comments))])

    def replace_second_pass(self, date: dt.date, subreddit: str, rows: pa.Table) -> int:
        """Replace one partition's rows of `reddit_second_pass` in one transaction; the rows written."""
        return self._replace(date, subreddit, [(SECOND_PASS, SECOND_PASS_SCHEMA, rows)])[SECOND_PASS_TABLE]

    def _replace(self, date: dt.date, subreddit: str, loads: list[tuple[sa.Table, pa.Schema, pa.Table]]) -> dict:
        """Delete the partition's rows from each table and load the new ones, all in one transaction."""
        tables = [_conform(rows, schema, date, subreddit) for _, schema, rows in loads]
        # Rows are made while they are written (tuples for SQLite, CSV for COPY), batch by
        # batch, so memory stays near the Arrow tables; SQLite's write lock is held meanwhile.
        payloads = [_sqlite_rows(t) if self.kind == "sqlite" else t for t in tables]
        with self._write() as conn, conn.begin():
            if self.kind == "postgres":
                # Two runs of the same partition wait for each other instead of colliding on the key.
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _partition_lock_key(date, subreddit)}
                )
                conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")  # COPY data holds naive UTC timestamps
            for sql_table, _, _ in loads:
                conn.execute(
                    sa.delete(sql_table).where(sql_table.c.scrape_date == date, sql_table.c.subreddit == subreddit)
                )
            for (sql_table, schema, _), table, payload in zip(loads, tables, payloads):
                if table.num_rows:
                    self._insert(conn, sql_table, schema.names, payload)
        return {sql_table.name: table.num_rows for (sql_table, _, _), table in zip(loads, tables)}

    def _insert(self, conn: sa.Connection, sql_table: sa.Table, names: list[str], payload) -> None:
        columns = ", ".join(names)
        driver = conn.dialect.driver
        if self.kind == "sqlite":
            placeholders = ", ".join("?" * len(names))
            # sqlite3's executemany takes the row generator as it comes; same connection, same transaction.
            cursor = _driver_connection(conn).cursor()
            try:
                cursor.executemany(f"INSERT INTO {sql_table.name} ({columns}) VALUES ({placeholders})", payload)
            finally:
                cursor.close()
        else:
            copy_sql = f"COPY {sql_table.name} ({columns}) FROM STDIN WITH (FORMAT csv)"
            # The raw DBAPI connection of this SQLAlchemy connection: same transaction.
            with _driver_connection(conn).cursor() as cursor:
                if driver == "psycopg":
                    with cursor.copy(copy_sql) as copy:
                        for chunk in _csv_chunks(payload):
                            copy.write(memoryview(chunk))
                else:
                    cursor.copy_expert(copy_sql, _ChunkReader(_csv_chunks(payload)), size=_COPY_CHUNK_BYTES)

    def counts_by_partition(self, dates: Iterable[dt.date]) -> dict[tuple[dt.date, str], tuple[int, int]]:
        """{(date, subreddit): (submission rows, comment rows)} of every partition with rows on
        those dates: one query per table (a year's report asks for 36,500 partitions)."""
        wanted = set(dates)
        if not wanted:
            return {}
        counts: dict[tuple[dt.date, str], list[int]] = {}
        with self.engine.connect() as conn:
            present = set(sa.inspect(conn).get_table_names())
            for i, (t, _) in enumerate(_LOADS):
                if t.name not in present:  # nothing loaded yet: the report comes before any load
                    continue
                rows = conn.execute(
                    sa.select(t.c.scrape_date, t.c.subreddit, sa.func.count())
                    .where(t.c.scrape_date.between(min(wanted), max(wanted)))
                    .group_by(t.c.scrape_date, t.c.subreddit)
                )
                for date, subreddit, n in rows:
                    if date in wanted:
                        counts.setdefault((date, subreddit), [0, 0])[i] = n
        return {key: (n[0], n[1]) for key, n in counts.items()}

    def partition_counts(self, date: dt.date, subreddit: str) -> tuple[int, int]:
        """(submission rows, comment rows) of one partition."""
        with self.engine.connect() as conn:
            submissions, comments = (
                conn.execute(
                    sa.select(sa.func.count()).select_from(t).where(t.c.scrape_date == date, t.c.subreddit == subreddit)
                ).scalar_one()
                for t, _ in _LOADS
            )
            return submissions, comments

    def second_pass_count(self, date: dt.date, subreddit: str) -> int:
        """Rows of `reddit_second_pass` for one partition."""
        t = SECOND_PASS
        query = sa.select(sa.func.count()).select_from(t).where(t.c.scrape_date == date, t.c.subreddit == subreddit)
        with self.engine.connect() as conn:
            return int(conn.scalar(query))

    def partitions_counts(self, partitions: list[tuple[dt.date, str]]) -> dict[tuple[dt.date, str], PartitionCounts]:
        """Rows of many partitions in one grouped query per table (not one per partition); a
        partition without rows counts (0, 0)."""
        if not partitions:
            return {}
        dates = [d for d, _ in partitions]
        names = sorted({n for _, n in partitions})

        def in_range(t):
            return sa.and_(t.c.scrape_date.between(min(dates), max(dates)), t.c.subreddit.in_(names))

        counts = {p: [0, 0] for p in partitions}
        with self.engine.connect() as conn:
            for i, (t, _) in enumerate(_LOADS):
                query = sa.select(t.c.scrape_date, t.c.subreddit, sa.func.count()).where(in_range(t))
                for date, name, n in conn.execute(query.group_by(t.c.scrape_date, t.c.subreddit)):
                    if (date, name) in counts:
                        counts[(date, name)][i] = n
        return {p: PartitionCounts(*c) for p, c in counts.items()}

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN skips DDL), and let two
    # processes share the file: WAL for concurrent readers, a busy timeout for writers.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # Switching a new file to WAL can fail with "database is locked" without waiting
        # for the busy timeout while another connection switches it too: retry.
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                cursor.execute("PRAGMA journal_mode = WAL")  # in-memory databases stay "memory"
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        cursor.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    # IMMEDIATE takes the write lock at BEGIN, where the busy timeout applies; a deferred
    # transaction upgrading from read to write in WAL mode fails at once with SQLITE_BUSY.
    immediate = conn.get_execution_options().get("reddit_begin_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
