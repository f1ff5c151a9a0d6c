"""What an asset declares about itself: keys, retry policy, pool, owners, automation condition."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

RAW_SCRAPE = dg.AssetKey(["reddit", "raw_scrape"])
SUBMISSIONS = dg.AssetKey(["reddit", "submissions"])
COMMENTS = dg.AssetKey(["reddit", "comments"])
R2_ARCHIVE = dg.AssetKey(["reddit", "r2_archive"])
SECOND_PASS = dg.AssetKey(["reddit", "second_pass"])
SECOND_PASS_TABLE = dg.AssetKey(["reddit", "second_pass_table"])
SECOND_PASS_ARCHIVE = dg.AssetKey(["reddit", "second_pass_archive"])

RETRY_DELAY_VAR = "REDDIT_ASSETS_RETRY_DELAY_SECONDS"
DEFAULT_RETRY_DELAY_SECONDS = 2.0


def retry_policy(env: Mapping[str, str] = os.environ) -> dg.RetryPolicy:
    """The seed's max_retries=2, with exponential backoff: the first retry after
    $REDDIT_ASSETS_RETRY_DELAY_SECONDS (2 s), the second after twice that, each +/- jitter.
    The tests set 0: they count retries, and waiting for them only made the suite slower."""
    value = env.get(RETRY_DELAY_VAR, "").strip()
    try:
        delay = float(value) if value else DEFAULT_RETRY_DELAY_SECONDS
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 3600:
        raise ValueError(f"{RETRY_DELAY_VAR}={value!r}: give the seconds before a step's first retry (0 to 3600)")
    return dg.RetryPolicy(max_retries=2, delay=delay, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


RETRY_POLICY = retry_policy()
REDDIT_POOL = "reddit_api"
OWNERS = ["team:data-engineering"]

# Like AutomationCondition.eager(), but for every date partition, not only the latest:
# a raw file scraped, imported or restored for any day is loaded and archived.
FOLLOW_RAW_SCRAPE = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("follows reddit/raw_scrape, any day")
# The same rule for the second pass's table and archive, which follow reddit/second_pass.
FOLLOW_SECOND_PASS = FOLLOW_RAW_SCRAPE.with_label("follows reddit/second_pass, any day")
