"""The warm run launcher under a real `dagster dev` with the repository's dagster.yaml: runs
are forked workers that load the right rows, a code change is picked up by the next run,
and a run terminated from the UI's API gets its interrupt."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
import yaml

from reddit_assets.automation.executors import event_settings
from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.instance.warm_launcher import WORKER_PID_TAG
from reddit_assets_demo.dagster_api import backfill_status, graphql, launch_asset_backfill, wait_for_backfill
from reddit_assets_demo.raw_documents import generated_raw_document
from reddit_assets_tests.fixtures.dagster_dev import REPO_ROOT, dagster_dev_env, running_dagster
from reddit_assets_tests.fixtures.tables import loaded_counts

pytestmark = [pytest.mark.slow, pytest.mark.integration]

_RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) {
    ... on Run { status tags { key value } }
  }
  logsForRun(runId: $id) {
    ... on EventConnection { events { __typename ... on EngineEvent { message } } }
  }
}"""

_TERMINATE = """
mutation Terminate($id: String!) {
  terminateRun(runId: $id) { __typename ... on PythonError { message } }
}"""

_FORCE_TERMINATE = """
mutation Terminate($id: String!) {
  terminateRun(runId: $id, terminatePolicy: MARK_AS_CANCELED_IMMEDIATELY) {
    __typename ... on PythonError { message } ... on TerminateRunFailure { message }
  }
}"""


def _run(base_url: str, run_id: str) -> tuple[str, dict[str, str], list[str]]:
    """(status, tags, engine event messages) of one run."""
    data = graphql(base_url, _RUN, {"id": run_id})
    run = data["runOrError"]
    messages = [e.get("message") or "" for e in data["logsForRun"]["events"] if e["__typename"] == "EngineEvent"]
    return run["status"], {t["key"]: t["value"] for t in run["tags"]}, messages


def _backfill(base_url: str, assets: list[list[str]], keys: list[str]) -> dict:
    return wait_for_backfill(base_url, launch_asset_backfill(base_url, assets, keys), timeout=300)


def test_runs_are_forked_workers_that_follow_code_changes_and_get_terminated(tmp_path: Path, reddit_server):
    start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)
    names = ["warm00", "warm01"]
    config = tmp_path / "subreddits.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "start_date": start.isoformat(),
                "flags": {"master_enabled": False},
                "second_pass": {"enabled": False},
                "subreddits": [{"name": n, "category": "new", "n_results": 5, "comments": "none"} for n in names],
            }
        )
    )
    data_dir = tmp_path / "data"
    expected = {}
    for day in (start, start + dt.timedelta(days=1)):
        for name in names:
            document = generated_raw_document(name, day, n_submissions=3, comments_per_submission=(1, 4))
            write_raw_file(raw_file_path(data_dir, day, name), document)
            expected[(day.isoformat(), name)] = (len(document["submissions"]), len(document["comments"]))
    env = dagster_dev_env(config, data_dir, reddit_server.url, "reddit_assets warm launcher test")
    env.update(event_settings(os.environ))
    tables = [["reddit", "submissions"], ["reddit", "comments"]]
    instance_yaml = (REPO_ROOT / "dagster.yaml").read_text()

    with running_dagster(env, tmp_path / "home", tmp_path / "dagster.log", instance_yaml) as base_url:
        first = _backfill(base_url, tables, [f"{start}|{n}" for n in names])
        assert first["status"] == "COMPLETED_SUCCESS", first
        pids = []
        for run in first["runs"]:
            status, tags, messages = _run(base_url, run["runId"])
            assert status == "SUCCESS"
            pid = int(tags[WORKER_PID_TAG])  # launched by the warm starter, not the code server
            assert f"Started process for run (pid: {pid})." in messages
            pids.append(pid)
        assert len(set(pids)) == len(pids)

        # A changed config file (as a reload would see it) is loaded again before the next run.
        config.write_text(config.read_text() + "\n")
        second = _backfill(base_url, tables, [f"{start + dt.timedelta(days=1)}|{n}" for n in names])
        assert second["status"] == "COMPLETED_SUCCESS", second
        assert all(WORKER_PID_TAG in _run(base_url, r["runId"])[1] for r in second["runs"])

        # A scrape that waits on Reddit, terminated as the UI's Terminate button does.
        reddit_server.add_fault(r"/new", delay=120, times=None)
        scrape_id = launch_asset_backfill(
            base_url, [["reddit", "raw_scrape"]], [f"{start + dt.timedelta(days=2)}|warm00"]
        )
        deadline = time.monotonic() + 120
        run_id = None
        while time.monotonic() < deadline:
            runs = backfill_status(base_url, scrape_id)["runs"]
            if runs and runs[0]["status"] == "STARTED" and reddit_server.stats()["requests"] > 0:
                run_id = runs[0]["runId"]
                break
            time.sleep(0.5)
        assert run_id, "the scrape run never reached Reddit"
        pid = int(_run(base_url, run_id)[1][WORKER_PID_TAG])
        log_before = (tmp_path / "dagster.log").read_text()
        assert "DagsterExecutionInterruptedError" not in log_before
        assert graphql(base_url, _TERMINATE, {"id": run_id})["terminateRun"]["__typename"] == "TerminateRunSuccess"
        # The worker gets the interrupt the code server would send its own worker. Dagster then
        # retries an interrupted step that has a retry policy (ours do), so the run stays
        # CANCELING, as with Dagster's launcher, until forced.
        deadline = time.monotonic() + 60
        while "DagsterExecutionInterruptedError" not in (tmp_path / "dagster.log").read_text():
            assert time.monotonic() < deadline, "the worker never saw the interrupt"
            time.sleep(0.5)
        retry_lines = [
            line for line in (tmp_path / "dagster.log").read_text().splitlines() if "STEP_UP_FOR_RETRY" in line
        ]
        assert retry_lines and f" - {pid} - " in retry_lines[-1]  # that worker, interrupted mid-step
        assert _run(base_url, run_id)[0] == "CANCELING"
        forced = graphql(base_url, _FORCE_TERMINATE, {"id": run_id})["terminateRun"]
        assert forced["__typename"] == "TerminateRunSuccess", forced
        assert _run(base_url, run_id)[0] == "CANCELED"

    assert loaded_counts(data_dir / "reddit.db") == expected
