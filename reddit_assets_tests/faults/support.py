"""What the fault tests share: paths, partition keys, and rebuilding `defs` with one resource changed."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from reddit_assets import resources
from reddit_assets.reddit.resource import RedditResource

REPO = Path(__file__).resolve().parents[2]
RAW_SCRAPE = dg.AssetKey(["reddit", "raw_scrape"])


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def key(name: str, date: dt.date | None = None) -> str:
    return f"{(date or today()).isoformat()}|{name}"


def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def raw_path(tmp_path: Path, name: str, date: dt.date | None = None) -> Path:
    return data_dir(tmp_path) / "scrapes" / (date or today()).isoformat() / f"{name}.json"


def local_zip(tmp_path: Path, name: str, date: dt.date | None = None) -> Path:
    d = (date or today()).isoformat()
    return data_dir(tmp_path) / "archives" / "daily_scrapes" / name / d / f"{name}_{d}.zip"


def object_key(name: str, date: dt.date | None = None) -> str:
    d = (date or today()).isoformat()
    return f"daily_scrapes/{name}/{d}/{name}_{d}.zip"


def files_under(path: Path) -> list[Path]:
    """Every file below `path`, hidden temporary files included."""
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def temp_files(path: Path) -> list[Path]:
    return [p for p in files_under(path) if p.name.endswith(".tmp")]


def read_raw(tmp_path: Path, name: str, date: dt.date | None = None) -> dict:
    return json.loads(raw_path(tmp_path, name, date).read_text(encoding="utf-8"))


def with_resources(defs: dg.Definitions, **overrides) -> dg.Definitions:
    """The same assets and jobs with some resources replaced (e.g. a Reddit client with a short timeout)."""
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        schedules=defs.schedules,
        sensors=defs.sensors,
        executor=defs.executor,
        loggers=defs.loggers,
        resources={**defs.resources, **overrides},
    )


def reddit_resource(**fields) -> RedditResource:
    """The resource the definitions build from the environment, with some fields changed."""
    base = resources.reddit_resource()
    # Fields set from the environment stay dg.EnvVars: secrets are still resolved only at run time.
    values = {name: getattr(base, name) for name in RedditResource.model_fields}
    values = {k: v for k, v in values.items() if v is not None}
    values.update(fields)
    return RedditResource(**values)


def archive_store(**fields):
    """The R2 store the definitions build from the environment, with some fields changed."""
    base = resources.archive_store_resource()
    values = {name: getattr(base, name) for name in type(base).model_fields}
    values = {k: v for k, v in values.items() if v is not None}
    values.update(fields)
    return type(base)(**values)


def run(
    defs: dg.Definitions, job: str, partition: str, instance: dg.DagsterInstance, **kwargs
) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        partition_key=partition, instance=instance, raise_on_error=False, **kwargs
    )


def failure_messages(result: dg.ExecuteInProcessResult, step_key: str | None = None) -> list[str]:
    """The error messages (with causes) of every failed step attempt, retried or final, in order."""
    kinds = (dg.DagsterEventType.STEP_UP_FOR_RETRY, dg.DagsterEventType.STEP_FAILURE)
    out = []
    for event in result.all_events:
        if event.event_type not in kinds or (step_key and event.step_key != step_key):
            continue
        error = event.event_specific_data.error
        parts = []
        while error is not None:
            parts.append(error.message)
            error = error.cause
        out.append(" | ".join(parts))
    return out


def retry_count(result: dg.ExecuteInProcessResult, step_key: str) -> int:
    return sum(
        1 for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY and e.step_key == step_key
    )


def table_counts(url: str, name: str, date: dt.date | None = None) -> tuple[int, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(
                conn.execute(
                    sa.text(f"SELECT count(*) FROM {table} WHERE subreddit = :s AND scrape_date = :d"),
                    {"s": name, "d": date or today()},
                ).scalar()
                for table in ("reddit_submissions", "reddit_comments")
            )
    finally:
        engine.dispose()


def table_ids(url: str, table: str, name: str, date: dt.date | None = None) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(f"SELECT id FROM {table} WHERE subreddit = :s AND scrape_date = :d"),
                {"s": name, "d": date or today()},
            )
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{data_dir(tmp_path) / 'reddit.db'}"


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment (as `configure` set it) for a child Python or dagster process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("DAGSTER_HOME", None)
    env.update(extra or {})
    return env


PYTHON = sys.executable
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def synthetic_document(name: str, date: dt.date, n_submissions: int, n_comments: int, prefix: str = "x") -> dict:
    """A raw document in Reddit's shape with many small rows, for loads big enough to interrupt."""
    now = dt.datetime.now(dt.UTC)
    created = now.timestamp()
    submissions = [
        {
            "id": f"{prefix}s{i}",
            "name": f"t3_{prefix}s{i}",
            "title": f"title {i}",
            "author": "someone",
            "selftext": "text " * 20,
            "url": "https://example.invalid/",
            "permalink": f"/r/{name}/comments/{prefix}s{i}/",
            "domain": "self",
            "link_flair_text": None,
            "created_utc": created,
            "score": i,
            "upvote_ratio": 0.5,
            "num_comments": 0,
            "over_18": False,
            "is_self": True,
            "stickied": False,
            "locked": False,
            "spoiler": False,
        }
        for i in range(n_submissions)
    ]
    comments = [
        {
            "id": f"{prefix}c{i}",
            "name": f"t1_{prefix}c{i}",
            "parent_id": f"t3_{prefix}s{i % n_submissions}",
            "link_id": f"t3_{prefix}s{i % n_submissions}",
            "author": "another",
            "body": "lorem ipsum dolor " * 8,
            "permalink": "/c/",
            "distinguished": None,
            "score": 1,
            "is_submitter": False,
            "stickied": False,
            "created_utc": created,
            "edited": False,
            "depth": 0,
        }
        for i in range(n_comments)
    ]
    return {
        "subreddit": name,
        "date": date.isoformat(),
        "settings": {},
        "scraped_at": now.isoformat(),
        "api_requests": 0,
        "submissions": submissions,
        "comments": comments,
    }
