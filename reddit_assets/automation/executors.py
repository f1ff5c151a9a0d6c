"""The executor of every job: Dagster's default, or Celery workers when the environment says so.

`REDDIT_ASSETS_EXECUTOR=celery` sends each step to a Celery queue (dagster-celery) on the
broker at `CELERY_BROKER_URL`, with results on `CELERY_BACKEND_URL` (default `rpc://`).
Unset, a run executes its steps one after another in the run's own process, which has
already loaded Dagster and our definitions: the run is the unit of isolation (its own
process per run), and a run over many partitions (a backfill's) pays no second process
start. A step process per step, even forked from a preloaded server, cost each run that
server's start and import (seconds per run; a year's backfill is a hundred runs).
The URLs reach the executor as `{env: ...}` config, so they are read where the run
executes and never shown in the UI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

EXECUTOR_VAR = "REDDIT_ASSETS_EXECUTOR"

# Dagster's own switches for runs over many partitions (read in Dagster 1.13's code; both
# are read from the environment of the process that writes the events, at each write):
# - DAGSTER_EVENT_BATCH_SIZE: a run's materializations of one asset over its partitions are
#   written with store_event_batch, which dagster-postgres turns into one INSERT (SQLite
#   still writes them one by one). 0, Dagster's default, writes every event alone.
# - DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS (left off): one planned event per asset
#   per run instead of one per partition. Dagster reads failed partitions from per-partition
#   planned events only, so with it on, a failed one-partition run (a scrape, a second pass)
#   shows its partition "missing" instead of "failed" in the UI and the daily report. Range
#   runs of ours would cope (assets/partition_results.py writes planned events for their
#   unfinished partitions), but every failure before our code runs would not.
# Set by default where our code loads (code server, run workers, step processes); processes
# that never load our definitions (`dagster-daemon`, `dagster-webserver`) need them in their
# environment: `event_settings()` is what to export there (deploy docs, make demo, benchmarks).
EVENT_SETTINGS = {"DAGSTER_EVENT_BATCH_SIZE": "1000"}


def event_settings(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Dagster's event-writing switches: ours, unless the environment already sets them."""
    return {name: env.get(name, value) for name, value in EVENT_SETTINGS.items()}


BROKER_VAR = "CELERY_BROKER_URL"
BACKEND_VAR = "CELERY_BACKEND_URL"


def celery_executor_config(env: Mapping[str, str] = os.environ) -> dict:
    """The celery_executor config: broker and backend as environment references."""
    config: dict = {"broker": {"env": BROKER_VAR}}
    if env.get(BACKEND_VAR):
        config["backend"] = {"env": BACKEND_VAR}
    return config


def build_executor(env: Mapping[str, str] = os.environ) -> dg.ExecutorDefinition:
    """Dagster's in-process executor unless REDDIT_ASSETS_EXECUTOR names another.

    Also puts Dagster's event-writing switches (`EVENT_SETTINGS`) into this process's
    environment, where it does not set them itself, for the runs it executes.
    """
    if env is os.environ:
        os.environ.update(event_settings())
    choice = (env.get(EXECUTOR_VAR) or "").strip().lower()
    if choice in ("", "default"):
        return dg.in_process_executor
    if choice != "celery":
        raise ValueError(f"{EXECUTOR_VAR}={env[EXECUTOR_VAR]!r}: expected 'celery', 'default' or unset")
    if not env.get(BROKER_VAR):
        raise ValueError(
            f"{EXECUTOR_VAR}=celery needs {BROKER_VAR} (e.g. amqp://user:password@host:5672// or redis://host:6379/0)"
        )
    from dagster_celery import celery_executor

    return celery_executor.configured(celery_executor_config(env), name="celery")
