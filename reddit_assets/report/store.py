"""Where the report's HTML page is kept: `<data_dir>/reports/daily_report_<date>.html`, written atomically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reddit_assets.files.atomic import atomic_file


def report_path(data_dir: str | Path, date: dt.date) -> Path:
    return Path(data_dir) / "reports" / f"daily_report_{date.isoformat()}.html"


def write_html(path: Path, page: str) -> Path:
    with atomic_file(path) as handle:
        handle.write(page.encode("utf-8"))
    return path
