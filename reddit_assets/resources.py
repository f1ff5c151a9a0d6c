"""The resources, chosen from the environment when the definitions load.

Secrets reach resources only as `dg.EnvVar`, so Dagster resolves them at run time and
never shows their values. Unset parts fall back to the embedded defaults: a SQLite
file and a local folder archive store under the data directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from reddit_assets.files.paths import data_dir
from reddit_assets.reddit.resource import RedditResource
from reddit_assets.storage import tables
from reddit_assets.storage.archive_store_resource import LocalArchiveStore, R2ArchiveStore
from reddit_assets.storage.database_resource import DatabaseResource
from reddit_assets.storage.raw_files_resource import RawFilesResource


def _optional(env: Mapping[str, str], name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if env.get(name) else None


READ_BACK_VAR = "R2_VERIFY_BY_READ_BACK"
_SWITCH = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _switch(env: Mapping[str, str], name: str) -> bool:
    """An on/off variable (unset or empty: off); anything else is refused, naming it."""
    value = env.get(name, "").strip()
    if not value:
        return False
    if value.lower() not in _SWITCH:
        raise ValueError(f"{name}={value!r}: give 1, true, yes or on (or 0, false, no, off)")
    return _SWITCH[value.lower()]


def reddit_resource(env: Mapping[str, str] = os.environ) -> RedditResource:
    return RedditResource(
        client_id=dg.EnvVar("REDDIT_CLIENT_ID"),
        client_secret=dg.EnvVar("REDDIT_CLIENT_SECRET"),
        user_agent=dg.EnvVar("REDDIT_USER_AGENT"),
        username=_optional(env, "REDDIT_USERNAME"),
        password=_optional(env, "REDDIT_PASSWORD"),
        oauth_url=_optional(env, "REDDIT_OAUTH_URL"),
        reddit_url=_optional(env, "REDDIT_URL"),
    )


def database_kind(env: Mapping[str, str] = os.environ) -> str:
    """ "postgres" or "sqlite", by the same rule the table store applies to DATABASE_URL."""
    return tables.database_kind(env["DATABASE_URL"]) if env.get("DATABASE_URL") else "sqlite"


def database_resource(env: Mapping[str, str] = os.environ) -> DatabaseResource:
    if env.get("DATABASE_URL"):
        return DatabaseResource(url=dg.EnvVar("DATABASE_URL"))
    return DatabaseResource(url=f"sqlite:///{data_dir(env) / 'reddit.db'}")


def archive_store_kind(env: Mapping[str, str] = os.environ) -> str:
    return "s3" if env.get("R2_BUCKET") else "local"


def archive_store_resource(env: Mapping[str, str] = os.environ):
    if not env.get("R2_BUCKET"):
        return LocalArchiveStore(root=str(data_dir(env) / "r2"))
    if not (env.get("R2_ENDPOINT_URL") or env.get("R2_ACCOUNT_ID")):
        raise ValueError("R2_BUCKET is set but neither R2_ENDPOINT_URL nor R2_ACCOUNT_ID is")
    return R2ArchiveStore(
        endpoint_url=_optional(env, "R2_ENDPOINT_URL"),
        account_id=_optional(env, "R2_ACCOUNT_ID"),
        aws_access_key_id=dg.EnvVar("R2_ACCESS_KEY_ID"),
        aws_secret_access_key=dg.EnvVar("R2_SECRET_ACCESS_KEY"),
        bucket=dg.EnvVar("R2_BUCKET"),
        verify_by_read_back=_switch(env, READ_BACK_VAR),
    )


def build_resources(env: Mapping[str, str] = os.environ) -> dict:
    return {
        "reddit": reddit_resource(env),
        "raw_files": RawFilesResource(data_dir=str(data_dir(env))),
        "database": database_resource(env),
        "archive_store": archive_store_resource(env),
    }
