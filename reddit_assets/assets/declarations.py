"""What an asset declares about itself: keys, retry policy, pool, owners, automation condition."""

from __future__ import annotations

import dagster as dg

RAW_SCRAPE = dg.AssetKey(["reddit", "raw_scrape"])
SUBMISSIONS = dg.AssetKey(["reddit", "submissions"])
COMMENTS = dg.AssetKey(["reddit", "comments"])
R2_ARCHIVE = dg.AssetKey(["reddit", "r2_archive"])
SECOND_PASS = dg.AssetKey(["reddit", "second_pass"])
SECOND_PASS_TABLE = dg.AssetKey(["reddit", "second_pass_table"])
SECOND_PASS_ARCHIVE = dg.AssetKey(["reddit", "second_pass_archive"])

# The seed's max_retries=2, with exponential backoff (2 s, then 4 s, each +/- jitter).
RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
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
