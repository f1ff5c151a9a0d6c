"""Evaluate freshness over N subreddits in a fresh process, for a test that measures its memory.

    python -m reddit_assets_tests.faults.freshness_child N

Three subreddits get a raw_scrape materialization (one of them twice, one 30 hours ago);
prints the evaluation as JSON.
"""

import json
import sys
import time

import dagster as dg

from reddit_assets.alerts.freshness import evaluate_freshness
from reddit_assets.assets.declarations import RAW_SCRAPE
from reddit_assets.config import parse_config
from reddit_assets.partitions import build_partitions, partition_key


def main(count: int) -> None:
    config = parse_config({"subreddits": [{"name": f"sub{i:05d}"} for i in range(count)]})
    partitions_def = build_partitions(config)
    now = time.time()
    with dg.instance_for_test() as instance:
        for date, name in [("2026-01-05", "sub00001"), ("2026-01-09", "sub00001"), ("2026-01-03", "sub00002")]:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=RAW_SCRAPE, partition=partition_key(date, name))
            )
        started = time.monotonic()
        freshness = evaluate_freshness(instance, partitions_def, config.names, now + 30 * 3600)
        seconds = time.monotonic() - started
    scraped = {name: round(freshness.age_hours(name)) for name, stamp in freshness.last_scraped.items() if stamp}
    print(
        json.dumps({"scraped": scraped, "never": len(freshness.never_scraped), "stale": freshness.stale, "s": seconds})
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
