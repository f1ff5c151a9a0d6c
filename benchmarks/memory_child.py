"""One phase of the memory benchmark in a fresh interpreter; prints its figures as JSON.

    python -m benchmarks.memory_child scrape <reddit_url> <subreddit> <raw_path>
    python -m benchmarks.memory_child load <raw_path> <database_url>

The baseline is this process's RSS once everything it needs is imported; the peak (VmHWM)
is reset right after, so it covers the phase's work alone (on top of that baseline).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path


def _status(field: str) -> int:
    """A VmRSS/VmHWM figure of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _start() -> int:
    baseline = _status("VmRSS")
    # "5" resets the peak RSS to the current RSS (Linux 4.0+).
    Path("/proc/self/clear_refs").write_text("5")
    return baseline


def scrape(url: str, name: str, raw_path: str) -> dict:
    from reddit_assets.config import SubredditConfig
    from reddit_assets.files.raw_file import write_raw_file
    from reddit_assets.reddit.requestor import RequestStats
    from reddit_assets.reddit.resource import RedditResource

    resource = RedditResource(
        client_id="bench", client_secret="bench", user_agent="reddit_assets benchmark", oauth_url=url, reddit_url=url
    )
    entry = SubredditConfig(name=name, category="top", n_results=1, time_filter="all")
    baseline = _start()
    started = time.perf_counter()
    stats = RequestStats()
    result = resource.scrape(entry, stats)
    after_scrape = _status("VmHWM")
    document = {
        "subreddit": name,
        "date": dt.date.today().isoformat(),
        "settings": entry.settings(),
        "scraped_at": dt.datetime.now(dt.UTC).isoformat(),
        "api_requests": stats.requests,
        "submissions": result.submissions,
        "comments": result.comments,
    }
    written = write_raw_file(Path(raw_path), document)
    return {
        "baseline": baseline,
        "peak": _status("VmHWM"),
        "peak_scrape": after_scrape,
        "seconds": time.perf_counter() - started,
        "raw_bytes": written.size,
        "requests": stats.requests,
        "comments": len(result.comments),
    }


def load(raw_path: str, database_url: str) -> dict:
    """What the database asset does per partition: read and normalize, then replace the rows."""
    from reddit_assets.assets.raw_source import read_normalized
    from reddit_assets.storage.tables import TableStore

    store = TableStore(database_url)
    store.ensure_schema()
    baseline = _start()
    started = time.perf_counter()
    header, submissions, comments, _ = read_normalized(Path(raw_path))
    after_normalize = _status("VmHWM")
    written = store.replace_partition(dt.date.fromisoformat(header["date"]), header["subreddit"], submissions, comments)
    store.dispose()
    return {
        "baseline": baseline,
        "peak": _status("VmHWM"),
        "peak_normalize": after_normalize,
        "seconds": time.perf_counter() - started,
        "rows": sum(written.values()),
    }


if __name__ == "__main__":
    phase, *args = sys.argv[1:]
    print(json.dumps({"scrape": scrape, "load": load}[phase](*args)))
