"""Building the real definitions for a test: a config file, the environment, `defs`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg
import yaml

from reddit_assets.definitions import build_definitions
from reddit_assets.partitions import partition_key

# The package's console script, as installed in this virtual environment.
CLI = Path(sys.executable).parent / "reddit-assets"
ALL_ASSETS = ["reddit/raw_scrape", "reddit/submissions", "reddit/comments", "reddit/r2_archive"]
PRODUCTION_VARS = (
    "DATABASE_URL",
    "R2_ENDPOINT_URL",
    "R2_ACCOUNT_ID",
    "R2_ACCESS_KEY_ID",
    "R2_SECRET_ACCESS_KEY",
    "R2_BUCKET",
    "R2_VERIFY_BY_READ_BACK",
    "REDDIT_USERNAME",
    "REDDIT_PASSWORD",
)


def configure(
    monkeypatch,
    tmp_path: Path,
    *,
    reddit_url: str,
    subreddits: list[dict],
    database_url: str | None = None,
    s3: dict | None = None,
    flags: dict | None = None,
    start_date: str = "2026-01-01",
    reddit_secret: str = "test-secret",
) -> dg.Definitions:
    """Write a config file, point the environment at the given servers, and load `defs`.

    `s3`: {"endpoint", "bucket", "key", "secret"} for an S3-compatible archive store.
    """
    config = {"start_date": start_date, "subreddits": subreddits}
    if flags:
        config["flags"] = flags
    path = tmp_path / "subreddits.yaml"
    path.write_text(yaml.safe_dump(config))
    for name in PRODUCTION_VARS:
        monkeypatch.delenv(name, raising=False)
    env = {
        "REDDIT_ASSETS_CONFIG": str(path),
        "REDDIT_ASSETS_DATA_DIR": str(tmp_path / "data"),
        "REDDIT_CLIENT_ID": "test-client",
        "REDDIT_CLIENT_SECRET": reddit_secret,
        "REDDIT_USER_AGENT": "reddit_assets tests (127.0.0.1)",
        "REDDIT_OAUTH_URL": reddit_url,
        "REDDIT_URL": reddit_url,
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if s3:
        env.update(
            R2_ENDPOINT_URL=s3["endpoint"],
            R2_BUCKET=s3["bucket"],
            R2_ACCESS_KEY_ID=s3["key"],
            R2_SECRET_ACCESS_KEY=s3["secret"],
        )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return build_definitions()


def run_job(
    defs: dg.Definitions, job: str, date, subreddit: str, instance: dg.DagsterInstance, **kwargs
) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        partition_key=partition_key(date, subreddit), instance=instance, raise_on_error=False, **kwargs
    )


def materialization_metadata(instance: dg.DagsterInstance, asset: str, key: str) -> dict:
    """The latest materialization's metadata values for one partition."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset.split("/")), asset_partitions=[key]), limit=1
    ).records
    assert records, f"{asset} has no materialization for {key}"
    event = records[0].asset_materialization
    return {k: v.value for k, v in event.metadata.items()}


def cli_environment(tmp_path: Path, config: dict, reddit_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `dagster asset materialize` subprocess: this one without Reddit, R2 and
    database settings, plus the config file written from `config`, a DAGSTER_HOME and the endpoint."""
    path = tmp_path / "subreddits.yaml"
    path.write_text(yaml.safe_dump(config))
    (tmp_path / "home").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDDIT_", "R2_", "DATABASE_URL"))}
    env.update(
        DAGSTER_HOME=str(tmp_path / "home"),
        REDDIT_ASSETS_CONFIG=str(path),
        REDDIT_ASSETS_DATA_DIR=str(tmp_path / "data"),
        REDDIT_CLIENT_ID="cli-client",
        REDDIT_CLIENT_SECRET="cli-secret",
        REDDIT_USER_AGENT="reddit_assets cli test",
        REDDIT_OAUTH_URL=reddit_url,
        REDDIT_URL=reddit_url,
        **extra,
    )
    return env
