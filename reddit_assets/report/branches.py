"""The branches a report shows per partition: which assets and checks each covers, and which
of their materialization metadata it keeps.

A further branch (e.g. reddit/second_pass) is one more `Branch` in `BRANCHES`.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from reddit_assets.assets.declarations import (
    COMMENTS,
    R2_ARCHIVE,
    RAW_SCRAPE,
    SECOND_PASS,
    SECOND_PASS_ARCHIVE,
    SECOND_PASS_TABLE,
    SUBMISSIONS,
)
from reddit_assets.config import Flags


@dataclass(frozen=True)
class Branch:
    """One column group of the report.

    `fields` maps a report field to (asset key, metadata key) of the latest materialization;
    `totals` are the numeric fields summed over the day (the report asset's plotted metadata);
    field names are unique across branches. `counted`: whether the partition's state (and so
    `status`'s exit code) depends on it.
    """

    name: str
    assets: tuple[dg.AssetKey, ...]
    checks: tuple[dg.AssetCheckKey, ...]
    fields: dict[str, tuple[dg.AssetKey, str]]
    totals: tuple[str, ...]
    counted: bool = True

    def required(self, flags: Flags) -> bool:
        """Whether a partition is complete only with this branch done."""
        return True


@dataclass(frozen=True)
class _ArchiveBranch(Branch):
    def required(self, flags: Flags) -> bool:
        return flags.create_archives_enabled


SCRAPED = Branch(
    name="scraped",
    assets=(RAW_SCRAPE,),
    checks=(dg.AssetCheckKey(RAW_SCRAPE, "raw_file_matches_counts"),),
    fields={
        "submissions": (RAW_SCRAPE, "submissions"),
        "comments": (RAW_SCRAPE, "comments"),
        "api_requests": (RAW_SCRAPE, "api_requests"),
        "waits_429": (RAW_SCRAPE, "rate_limited"),
        "late_snapshot": (RAW_SCRAPE, "late_snapshot"),
        "reached_day_start": (RAW_SCRAPE, "reached_day_start"),
        # Stream subreddits only: whether polls covered the whole day, and how much they missed.
        "coverage_complete": (RAW_SCRAPE, "coverage_complete"),
        "minutes_uncovered": (RAW_SCRAPE, "minutes_uncovered"),
        "coverage_gaps": (RAW_SCRAPE, "coverage_gaps"),
    },
    totals=("submissions", "comments", "api_requests", "waits_429"),
)
LOADED = Branch(
    name="loaded",
    assets=(SUBMISSIONS, COMMENTS),
    checks=(
        dg.AssetCheckKey(SUBMISSIONS, "rows_match_raw_file"),
        dg.AssetCheckKey(COMMENTS, "rows_match_raw_file"),
    ),
    fields={
        "submission_rows": (SUBMISSIONS, "rows"),
        "comment_rows": (COMMENTS, "rows"),
    },
    totals=("submission_rows", "comment_rows"),
)
ARCHIVED = _ArchiveBranch(
    name="archived",
    assets=(R2_ARCHIVE,),
    checks=(dg.AssetCheckKey(R2_ARCHIVE, "archive_matches_manifest"),),
    fields={
        "object_key": (R2_ARCHIVE, "object_key"),
        "uploaded": (R2_ARCHIVE, "uploaded"),
        "archive_bytes": (R2_ARCHIVE, "bytes"),
    },
    totals=("archive_bytes",),
)

# What became of the day's items, fetched again once the day is old enough: shown, never
# required (a day is complete when scraped, loaded and archived; its second pass comes later).
SECOND_PASSED = Branch(
    name="second pass",
    assets=(SECOND_PASS, SECOND_PASS_TABLE, SECOND_PASS_ARCHIVE),
    checks=(),
    fields={
        "items_returned": (SECOND_PASS, "items_returned"),
        "items_missing": (SECOND_PASS, "items_missing"),
        "removed": (SECOND_PASS, "removed"),
        "deleted": (SECOND_PASS, "deleted"),
        "edited_since_scrape": (SECOND_PASS, "edited_since_scrape"),
        "second_pass_rows": (SECOND_PASS_TABLE, "rows"),
        "second_pass_object_key": (SECOND_PASS_ARCHIVE, "object_key"),
    },
    totals=("items_returned", "removed", "deleted"),
    counted=False,
)

BRANCHES: tuple[Branch, ...] = (SCRAPED, LOADED, ARCHIVED, SECOND_PASSED)
