"""Run monitoring's question to the warm launcher: is this run's worker process still there?"""

from __future__ import annotations

import os
import socket
import subprocess

import dagster as dg

from reddit_assets.dagster_private import WorkerStatus
from reddit_assets.instance.warm_launcher import WORKER_HOST_TAG, WORKER_PID_TAG, WarmRunLauncher


def _run(tags: dict[str, str]) -> dg.DagsterRun:
    return dg.DagsterRun(job_name="database_only_job", run_id="11111111-2222-4333-8444-555555555555", tags=tags)


def test_a_live_worker_runs_and_a_gone_one_failed():
    launcher = WarmRunLauncher()
    here = socket.gethostname()
    alive = launcher.check_run_worker_health(_run({WORKER_PID_TAG: str(os.getpid()), WORKER_HOST_TAG: here}))
    assert alive.status == WorkerStatus.RUNNING

    finished = subprocess.Popen(["true"])
    finished.wait()  # reaped: its pid names no process now
    gone = launcher.check_run_worker_health(_run({WORKER_PID_TAG: str(finished.pid), WORKER_HOST_TAG: here}))
    assert gone.status == WorkerStatus.FAILED
    assert str(finished.pid) in gone.msg


def test_workers_it_cannot_see_are_not_failed():
    launcher = WarmRunLauncher()
    elsewhere = launcher.check_run_worker_health(_run({WORKER_PID_TAG: "1", WORKER_HOST_TAG: "another-host"}))
    by_code_server = launcher.check_run_worker_health(_run({}))
    assert elsewhere.status == by_code_server.status == WorkerStatus.RUNNING
    assert launcher.supports_check_run_worker_health
