"""The executor of every job: Dagster's default, or Celery workers when the environment says so.

`REDDIT_ASSETS_EXECUTOR=celery` sends each step to a Celery queue (dagster-celery) on the
broker at `CELERY_BROKER_URL`, with results on `CELERY_BACKEND_URL` (default `rpc://`).
Unset, jobs keep Dagster's default (multiprocess in a launched run, in-process in tests).
The URLs reach the executor as `{env: ...}` config, so they are read where the run
executes and never shown in the UI.
"""

from __future__ import annotations

import os
from typing import Mapping

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


def build_executor(env: Mapping[str, str] = os.environ) -> dg.ExecutorDefinition | None:
    """None (Dagster's default executor) unless REDDIT_ASSETS_EXECUTOR names another."""
    choice = (env.get(EXECUTOR_VAR) or "").strip().lower()
    if choice in ("", "default"):
        return None
    if choice != "celery":
        raise ValueError(f"{EXECUTOR_VAR}={env[EXECUTOR_VAR]!r}: expected 'celery', 'default' or unset")
    if not env.get(BROKER_VAR):
        raise ValueError(f"{EXECUTOR_VAR}=celery needs {BROKER_VAR} (e.g. amqp://user:password@host:5672// or redis://host:6379/0)")
    from dagster_celery import celery_executor

    return celery_executor.configured(celery_executor_config(env), name="celery")
