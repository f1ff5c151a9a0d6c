"""The executor of every job: Dagster's default, or Celery workers when the environment says so.

`REDDIT_ASSETS_EXECUTOR=celery` sends each step to a Celery queue (dagster-celery) on the
broker at `CELERY_BROKER_URL`, with results on `CELERY_BACKEND_URL` (default `rpc://`).
Unset, jobs run each step in its own process (in-process in tests), forked from a server
that has already imported Dagster and our definitions, so a step starts in a fraction of
the time a fresh interpreter takes.
The URLs reach the executor as `{env: ...}` config, so they are read where the run
executes and never shown in the UI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

EXECUTOR_VAR = "REDDIT_ASSETS_EXECUTOR"
BROKER_VAR = "CELERY_BROKER_URL"
BACKEND_VAR = "CELERY_BACKEND_URL"


def celery_executor_config(env: Mapping[str, str] = os.environ) -> dict:
    """The celery_executor config: broker and backend as environment references."""
    config: dict = {"broker": {"env": BROKER_VAR}}
    if env.get(BACKEND_VAR):
        config["backend"] = {"env": BACKEND_VAR}
    return config


# Steps forked from a preloaded server: process isolation without the import cost per step.
PRELOADED_MULTIPROCESS = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["reddit_assets.definitions"]}}},
    name="multiprocess_preloaded",
)


def build_executor(env: Mapping[str, str] = os.environ) -> dg.ExecutorDefinition:
    """The preloaded multiprocess executor unless REDDIT_ASSETS_EXECUTOR names another."""
    choice = (env.get(EXECUTOR_VAR) or "").strip().lower()
    if choice in ("", "default"):
        return PRELOADED_MULTIPROCESS
    if choice != "celery":
        raise ValueError(f"{EXECUTOR_VAR}={env[EXECUTOR_VAR]!r}: expected 'celery', 'default' or unset")
    if not env.get(BROKER_VAR):
        raise ValueError(
            f"{EXECUTOR_VAR}=celery needs {BROKER_VAR} (e.g. amqp://user:password@host:5672// or redis://host:6379/0)"
        )
    from dagster_celery import celery_executor

    return celery_executor.configured(celery_executor_config(env), name="celery")
