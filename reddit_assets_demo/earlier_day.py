"""An earlier day for `make demo`, old enough for the second pass: its items are served beside
today's (so `/api/info` finds them) and its raw files are imported as an old system's would be,
so the automation loads and archives them and the `second_pass_when_due` sensor fetches them again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import dagster as dg

from reddit_assets.config import AppConfig
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.migrate.importer import ImportReport, import_directory
from reddit_assets_demo.generator import SubredditData
from reddit_assets_demo.raw_documents import generated_raw_document

# Ended more than the default 36 hours ago, so its second pass is due as soon as the demo starts.
DAYS_BACK = 3


def earlier_day(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=DAYS_BACK)


def with_earlier_day(today: SubredditData, earlier: SubredditData) -> SubredditData:
    """Today's data with the earlier day's submissions and comment trees added (ids never clash:
    the generator namespaces them by day)."""
    return dataclasses.replace(
        today, submissions=earlier.submissions + today.submissions, comments={**earlier.comments, **today.comments}
    )


def import_earlier_day(
    config: AppConfig, day: dt.date, data_dir: Path, instance: dg.DagsterInstance, topics: dict[str, str | None]
) -> ImportReport:
    """Write each subreddit's raw file for `day` (the same generated items the server holds) and
    import them, recording reddit/raw_scrape materializations in `instance`."""
    with tempfile.TemporaryDirectory(prefix="reddit-assets-demo-") as tmp:
        for name in config.names:
            document = generated_raw_document(name, day, topic=topics.get(name))
            write_raw_file(Path(tmp) / day.isoformat() / f"{name}.json", document)
        return import_directory(tmp, config=config, data_dir=data_dir, instance=instance)
