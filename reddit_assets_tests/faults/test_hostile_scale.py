"""A config at hostile scale: 10,000 subreddits (3.36 million partition keys over a year).

The freshness evaluation used to walk every partition key (199 s, 3 GB on an empty
instance); it now follows the subreddits and what was scraped. Measured in a child process.
"""

import json
import sys

from reddit_assets_tests.faults.measured import run_measured

# Dagster and the definitions imported peak near 110 MB with 10 subreddits; the walk took 3 GB.
MEMORY_BOUND_MB = 250


def test_freshness_over_ten_thousand_subreddits_is_bounded():
    result = run_measured([sys.executable, "-m", "reddit_assets_tests.faults.freshness_child", "10000"], timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads(result.stdout)
    assert evaluation["scraped"] == {"sub00001": 30, "sub00002": 30}
    assert evaluation["never"] == 9_998
    assert evaluation["stale"] == ["sub00001", "sub00002"]
    assert result.peak_rss_mb < MEMORY_BOUND_MB, result.peak_rss_mb
