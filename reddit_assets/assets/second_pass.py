"""reddit/second_pass and what follows it: each scraped item fetched again once it is old
enough, then loaded into `reddit_second_pass` and archived beside the day's archive.

Only reddit/second_pass talks to Reddit; the table and the archive read its file.
"""

import datetime as dt
import statistics
from zoneinfo import ZoneInfo

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from reddit_assets.assets.archive import run_zip_path, store_archive
from reddit_assets.assets.declarations import (
    FOLLOW_SECOND_PASS,
    OWNERS,
    RAW_SCRAPE,
    REDDIT_POOL,
    RETRY_POLICY,
    SECOND_PASS,
    SECOND_PASS_ARCHIVE,
    SECOND_PASS_TABLE,
)
from reddit_assets.assets.partition_results import per_partition
from reddit_assets.assets.raw_source import load_raw_partition
from reddit_assets.assets.second_pass_source import load_second_pass
from reddit_assets.config import AppConfig, Flags, SecondPass
from reddit_assets.files.archive_zip import build_archive
from reddit_assets.files.paths import local_second_pass_archive_path, second_pass_file_path, second_pass_object_key
from reddit_assets.files.second_pass_file import write_second_pass_file
from reddit_assets.files.second_pass_rows import second_pass_tables
from reddit_assets.partitions import partitions_of
from reddit_assets.reddit.requestor import RequestStats
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.reddit.second_pass import SubredditUnavailable, fetch_current_state, fullnames
from reddit_assets.storage.archive_store_resource import ArchiveStoreResource
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.raw_files_resource import RawFilesResource

_MAX_LISTED = 50


def refuse_early(partitions: list[tuple[str, dt.date, str]], settings: SecondPass, timezone: str, now: dt.datetime):
    """dg.Failure (no retry) naming every partition whose day is too recent, and when each becomes possible."""
    early = [(key, settings.possible_from(date, timezone)) for key, date, _ in partitions]
    early = [(key, when) for key, when in early if when > now]
    if not early:
        return
    listed = "; ".join(f"{key} becomes possible at {when.isoformat()}" for key, when in early[:_MAX_LISTED])
    raise dg.Failure(
        f"too early for a second pass: {listed} (second_pass.after_hours = {settings.after_hours:g} h after the "
        f"day ends, so that every item is at least that old; now is {now.isoformat()})",
        allow_retries=False,
    )


def _states(rows: pa.Table, first_scraped_at: dt.datetime) -> dict[str, int]:
    def count(mask) -> int:
        return int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)

    edited_after = pc.greater(
        rows.column("edited_utc"), pa.scalar(first_scraped_at, rows.schema.field("edited_utc").type)
    )
    return {
        "removed": count(rows.column("removed")),
        "deleted": count(rows.column("deleted")),
        "edited": count(rows.column("edited")),
        "edited_since_scrape": count(edited_after),
        "locked": count(rows.column("locked")),
    }


def _score_changes(first: pa.Table, second: pa.Table) -> dict[str, float]:
    """Median and largest score change of the submissions returned by both looks."""
    before = dict(zip(first.column("id").to_pylist(), first.column("score").to_pylist()))
    changes = [
        now - before[item_id]
        for item_id, now in zip(second.column("id").to_pylist(), second.column("score").to_pylist())
        if now is not None and before.get(item_id) is not None
    ]
    if not changes:
        return {}
    return {"score_change_median": float(statistics.median(changes)), "score_change_max": max(changes)}


def build_second_pass(app_config: AppConfig, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    settings, timezone = app_config.second_pass, app_config.schedule.timezone

    @dg.asset(
        key=SECOND_PASS,
        deps=[RAW_SCRAPE],
        partitions_def=partitions_def,
        group_name="second_pass",
        kinds={"reddit", "json"},
        owners=OWNERS,
        pool=REDDIT_POOL,
        retry_policy=RETRY_POLICY,
        # One run, one client and one token for a range: the pool holds one slot, requests go one after another.
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def second_pass(
        context: dg.AssetExecutionContext,
        reddit: RedditResource,
        raw_files: RawFilesResource,
        archive_store: ArchiveStoreResource,
    ):
        """Every submission and comment of the day's raw file fetched again through /api/info
        (100 per request) once the day is `second_pass.after_hours` old, in
        `<data_dir>/scrapes/<date>/<subreddit>.second_pass.json` (written atomically). Items
        Reddit no longer returns are listed as missing. Refused, before any request, while too early."""
        partitions = partitions_of(context.partition_keys)
        refuse_early(partitions, settings, timezone, dt.datetime.now(ZoneInfo(timezone)))
        stats = RequestStats()
        client = reddit.client(stats)

        def fetch(key: str, date: dt.date, name: str) -> dict:
            raw = load_raw_partition(raw_files, archive_store, date, name)
            asked = fullnames(raw.submissions.column("id").to_pylist(), raw.comments.column("id").to_pylist())
            requests_before, waits_before = stats.requests, stats.rate_limited
            fetched_at = dt.datetime.now(dt.UTC)
            try:
                result = fetch_current_state(client, name, asked)
            except SubredditUnavailable as exc:
                raise dg.Failure(f"partition {key}: {exc}", allow_retries=False) from None
            document = {
                "subreddit": name,
                "date": date.isoformat(),
                "fetched_at": fetched_at.isoformat(),
                "after_hours": settings.after_hours,
                "first_scrape": {"scraped_at": raw.header["scraped_at"], "sha256": raw.sha256},
                "api_requests": stats.requests - requests_before,
                "rate_limited": stats.rate_limited - waits_before,
                "missing": result.missing,
                "submissions": result.submissions,
                "comments": result.comments,
            }
            written = write_second_pass_file(second_pass_file_path(raw_files.data_dir, date, name), document)
            submissions, comments = second_pass_tables(document)
            first_scraped_at = dt.datetime.fromisoformat(raw.header["scraped_at"])
            metadata = {
                "items_asked": len(asked),
                "items_returned": len(result.submissions) + len(result.comments),
                "items_missing": len(result.missing),
                "api_requests": document["api_requests"],
                "rate_limited": document["rate_limited"],
                **_states(pa.concat_tables([submissions, comments]), first_scraped_at),
                **_score_changes(raw.submissions, submissions),
                "bytes": written.size,
                "sha256": written.sha256,
                "raw_sha256": raw.sha256,
                "path": dg.MetadataValue.path(str(written.path)),
            }
            if result.missing:
                shown = result.missing[:_MAX_LISTED]
                more = f" and {len(result.missing) - len(shown)} more" if len(result.missing) > len(shown) else ""
                metadata["missing"] = ", ".join(shown) + more
            return metadata

        yield from per_partition(context, SECOND_PASS, partitions, fetch)

    return second_pass


def build_second_pass_table(partitions_def: dg.PartitionsDefinition, db_kind: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=SECOND_PASS_TABLE,
        deps=[SECOND_PASS],
        partitions_def=partitions_def,
        group_name="second_pass",
        kinds={db_kind, "table"},
        owners=OWNERS,
        retry_policy=RETRY_POLICY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=FOLLOW_SECOND_PASS,
    )
    def second_pass_table(
        context: dg.AssetExecutionContext,
        raw_files: RawFilesResource,
        database: DatabaseResource,
        archive_store: ArchiveStoreResource,
    ):
        """The second pass in table `reddit_second_pass` (one row per item asked; `returned` false
        for items Reddit no longer returns), beside the first scrape in the views
        `reddit_submissions_then_and_now` and `reddit_comments_then_and_now`. Replaces the
        partition's rows in one transaction; never calls Reddit."""
        store = database.store()
        store.ensure_schema()

        def load(key: str, date: dt.date, name: str) -> dict:
            source = load_second_pass(raw_files, archive_store, date, name)
            if source.restored_from:
                context.log.info(f"{key}: second-pass file restored from archive {source.restored_from}")
            rows = store.replace_second_pass(date, name, pa.concat_tables([source.submissions, source.comments]))
            return {
                "rows": rows,
                "missing": len(source.missing),
                "second_pass_sha256": source.sha256,
                "restored_from_archive": bool(source.restored_from),
            }

        yield from per_partition(context, SECOND_PASS_TABLE, partitions_of(context.partition_keys), load)

    return second_pass_table


def build_second_pass_archive(
    partitions_def: dg.PartitionsDefinition, flags: Flags, store_kind: str
) -> dg.AssetsDefinition:
    @dg.asset(
        key=SECOND_PASS_ARCHIVE,
        deps=[SECOND_PASS],
        partitions_def=partitions_def,
        group_name="second_pass",
        kinds={store_kind, "zip", "parquet"},
        owners=OWNERS,
        retry_policy=RETRY_POLICY,
        backfill_policy=dg.BackfillPolicy.single_run(),
        automation_condition=FOLLOW_SECOND_PASS if flags.create_archives_enabled else None,
    )
    def second_pass_archive(
        context: dg.AssetExecutionContext, raw_files: RawFilesResource, archive_store: ArchiveStoreResource
    ):
        """Zip of the second-pass file, Parquet copies of its rows and a manifest of counts and
        SHA-256 sums, at `daily_scrapes/<subreddit>/<date>/<subreddit>_<date>_second_pass.zip`,
        next to the day's archive (which it never touches). The local zip is deleted only after
        the upload is verified."""
        store = archive_store.store()

        def archive(key: str, date: dt.date, name: str) -> dict:
            source = load_second_pass(raw_files, archive_store, date, name)
            final = local_second_pass_archive_path(raw_files.data_dir, date, name)
            zip_path = run_zip_path(final, context.run.run_id)
            header = {"subreddit": name, "date": date.isoformat(), "scraped_at": source.header["fetched_at"]}
            info = build_archive(
                source.path, header, source.submissions, source.comments, zip_path, raw_name=source.path.name
            )
            object_key = second_pass_object_key(date, name)
            return {
                "object_key": object_key,
                "bytes": info.size,
                "sha256": info.sha256,
                "submissions": source.submissions.num_rows,
                "comments": source.comments.num_rows,
                **store_archive(store, object_key, zip_path, final, info.sha256, flags.upload_to_r2_enabled),
            }

        yield from per_partition(context, SECOND_PASS_ARCHIVE, partitions_of(context.partition_keys), archive)

    return second_pass_archive
