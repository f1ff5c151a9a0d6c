"""The jobs users launch: the daily scrape and the two reprocessing jobs."""

from __future__ import annotations

import dagster as dg

from reddit_assets.alerts.freshness import FRESHNESS_CHECK_KEY
from reddit_assets.assets.declarations import COMMENTS, R2_ARCHIVE, RAW_SCRAPE, SUBMISSIONS
from reddit_assets.config import Flags

DAILY_SCRAPE_JOB = "daily_scrape_job"


def build_jobs(flags: Flags) -> list[dg.UnresolvedAssetJobDefinition]:
    daily = [RAW_SCRAPE, SUBMISSIONS, COMMENTS] + ([R2_ARCHIVE] if flags.create_archives_enabled else [])
    return [
        dg.define_asset_job(
            DAILY_SCRAPE_JOB,
            # The freshness check looks at every subreddit; the subreddit_freshness sensor evaluates it.
            selection=dg.AssetSelection.assets(*daily) - dg.AssetSelection.checks(FRESHNESS_CHECK_KEY),
            description="Scrape, load and archive (as the flags say) one subreddit-day: the seed's scheduled task.",
        ),
        dg.define_asset_job(
            "database_only_job",
            selection=dg.AssetSelection.assets(SUBMISSIONS, COMMENTS),
            description="Load existing raw files into the tables; never calls Reddit.",
        ),
        dg.define_asset_job(
            "upload_only_job",
            selection=dg.AssetSelection.assets(R2_ARCHIVE),
            description="Build and upload archives from existing raw files; never calls Reddit.",
        ),
    ]
