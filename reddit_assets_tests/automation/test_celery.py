"""The same definitions on Celery workers: a real `dagster-celery` worker subprocess on
RabbitMQ or Redis executes every step, and the results equal an in-process run.

No broker reachable: skipped, except with CI=true, where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

from reddit_assets.automation.executors import build_executor
from reddit_assets_demo.processes import start_process_group, stop_process_group
from reddit_assets_demo.server import RedditServer
from reddit_assets_tests.fixtures.reddit import utc_today
from reddit_assets_tests.harness import configure, run_job

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_WORKER = REPO / "deploy" / "celery" / "start-worker.sh"
TODAY = utc_today()
BROKERS = {
    "rabbitmq": ("127.0.0.1", 5672, "amqp://guest:guest@127.0.0.1:5672//", "rpc://"),
    "redis": ("127.0.0.1", 6379, "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
}
SUBREDDITS = [
    {"name": "celeryone", "n_results": 6},
    {"name": "celerytwo", "n_results": 4, "comments": 2},
    {"name": "celerythree", "category": "hot", "n_results": 5},
]
NAMES = [s["name"] for s in SUBREDDITS]


# --- choosing the executor -------------------------------------------------------------


def test_default_executor_unless_celery_is_asked_for():
    assert build_executor({}) is dg.in_process_executor
    assert build_executor({"REDDIT_ASSETS_EXECUTOR": "default"}) is dg.in_process_executor
    with pytest.raises(ValueError, match="CELERY_BROKER_URL"):
        build_executor({"REDDIT_ASSETS_EXECUTOR": "celery"})
    with pytest.raises(ValueError, match="'dask'"):
        build_executor({"REDDIT_ASSETS_EXECUTOR": "dask"})


def test_celery_executor_reads_urls_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REDDIT_ASSETS_EXECUTOR", "celery")
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://user:s3cret-pass@broker.internal:5672//")
    monkeypatch.delenv("CELERY_BACKEND_URL", raising=False)
    defs = configure(monkeypatch, tmp_path, reddit_url="http://127.0.0.1:9", subreddits=[{"name": "one"}])
    executors = {
        defs.resolve_job_def(name).executor_def for name in ("daily_scrape_job", "database_only_job", "upload_only_job")
    }
    assert [e.name for e in executors] == ["celery"]
    executor = executors.pop()
    # The URL is an environment reference, resolved where the run executes, not a value in the definitions.
    assert "s3cret" not in dg.serialize_value(defs.resolve_job_def("daily_scrape_job").get_job_snapshot())
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3")
    resolved = executor.apply_config_mapping({}).value["config"]
    assert resolved["broker"] == "redis://127.0.0.1:6379/3" and resolved["backend"] == "rpc://"


def test_definitions_run_steps_in_the_run_process(monkeypatch, tmp_path):
    monkeypatch.delenv("REDDIT_ASSETS_EXECUTOR", raising=False)
    defs = configure(monkeypatch, tmp_path, reddit_url="http://127.0.0.1:9", subreddits=[{"name": "one"}])
    assert defs.resolve_job_def("daily_scrape_job").executor_def.name == "in_process"


# --- a real worker ------------------------------------------------------------------------


def _reachable(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False


@pytest.fixture(params=sorted(BROKERS))
def broker(request):
    """(broker URL, backend URL) of a reachable local broker."""
    host, port, url, backend = BROKERS[request.param]
    if not _reachable(host, port):
        reason = f"{request.param} broker {host}:{port} is unreachable"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: the brokers are required)", pytrace=False)
        pytest.skip(reason)
    return url, backend


def _group_pids(pgid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.add(int(entry.name))
    return pids


@contextlib.contextmanager
def celery_worker(env: dict, name: str, log_path: Path):
    """deploy/celery/start-worker.sh in its own process group; stopped (the whole group) on exit."""
    log = open(log_path, "wb")
    proc = start_process_group(
        [str(START_WORKER)],
        cwd=REPO,
        env={**env, "CELERY_WORKER_NAME": name, "CELERY_WORKER_CONCURRENCY": "2"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        try:
            stop_process_group(proc, timeout=20, sig=signal.SIGTERM, kill_leftovers=True)  # prefork children too
        finally:
            log.close()


def wait_until_ready(proc: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while b" ready." not in log_path.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"Celery worker did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)


def _execute(env: dict, key: str, log_path: Path) -> subprocess.Popen:
    """`dagster job execute` of one partition: the run's orchestration in this subprocess, its steps on Celery."""
    return subprocess.Popen(
        [
            str(BIN / "dagster"),
            "job",
            "execute",
            "-m",
            "reddit_assets.definitions",
            "-a",
            "defs",
            "-j",
            "daily_scrape_job",
            "--tags",
            json.dumps({"dagster/partition": key}),
        ],
        cwd=REPO,
        env=env,
        stdout=open(log_path, "wb"),
        stderr=subprocess.STDOUT,
    )


def _results(data_dir: Path) -> dict:
    """Everything a run leaves, minus what differs between two scrapes of the same data (scraped_at)."""
    raw = {}
    for path in sorted((data_dir / "scrapes").rglob("*.json")):
        document = json.loads(path.read_text())
        document.pop("scraped_at")
        raw[path.relative_to(data_dir).as_posix()] = document
    with contextlib.closing(sqlite3.connect(data_dir / "reddit.db")) as db:
        rows = {
            table: db.execute(f"SELECT subreddit, count(*) FROM {table} GROUP BY subreddit ORDER BY 1").fetchall()
            for table in ("reddit_submissions", "reddit_comments")
        }
    objects = sorted(p.relative_to(data_dir / "r2").as_posix() for p in (data_dir / "r2").rglob("*.zip"))
    return {"raw": raw, "rows": rows, "objects": objects}


@pytest.fixture(scope="module")
def module_reddit_server():
    """One Reddit-compatible server for the module, so both brokers scrape the same data."""
    with RedditServer(
        day=TODAY, auto_create=True, generator_kwargs={"n_submissions": 20, "comments_per_submission": (0, 30)}
    ) as server:
        yield server


@pytest.fixture(scope="module")
def in_process_results(module_reddit_server, tmp_path_factory) -> dict:
    """The partitions run in-process (execute_in_process), once for the module."""
    root = tmp_path_factory.mktemp("in_process")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("REDDIT_ASSETS_EXECUTOR", raising=False)
        defs = configure(mp, root, reddit_url=module_reddit_server.url, subreddits=SUBREDDITS)
        with dg.instance_for_test() as instance:
            for name in NAMES:
                assert run_job(defs, "daily_scrape_job", TODAY, name, instance).success
    return _results(root / "data")


def test_daily_job_on_celery_workers_equals_in_process(monkeypatch, tmp_path, module_reddit_server, broker, request):
    broker_url, backend_url = broker
    keys = [f"{TODAY.isoformat()}|{name}" for name in NAMES]
    configure(monkeypatch, tmp_path, reddit_url=module_reddit_server.url, subreddits=SUBREDDITS)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # SQLite, shared by launcher and worker
    worker_name = f"reddit-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "REDDIT_ASSETS_EXECUTOR": "celery",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BACKEND_URL": backend_url,
    }

    with celery_worker(env, worker_name, tmp_path / "worker.log") as worker:
        expected = request.getfixturevalue("in_process_results")  # computed while the worker starts
        wait_until_ready(worker, tmp_path / "worker.log")
        launchers = [_execute(env, key, tmp_path / f"launch-{i}.log") for i, key in enumerate(keys)]
        for i, launcher in enumerate(launchers):
            code = launcher.wait(timeout=120)
            assert code == 0, (tmp_path / f"launch-{i}.log").read_text(errors="replace")[-4000:]
        worker_pids = _group_pids(worker.pid)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(run.tags["dagster/partition"] for run in runs) == sorted(keys)
        for run in runs:
            assert run.status == dg.DagsterRunStatus.SUCCESS
            events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event]
            started = {e.step_key: e.pid for e in events if e.event_type_value == "STEP_START"}
            assert {"reddit__raw_scrape", "database_tables", "reddit__r2_archive"} <= set(started)
            in_worker = {
                e.step_key
                for e in events
                if e.event_type_value == "ENGINE_EVENT"
                and "Celery worker" in e.event_specific_data.metadata
                and e.event_specific_data.metadata["Celery worker"].value.startswith(f"{worker_name}@")
            }
            assert in_worker == set(started)  # every step was handed to our worker ...
            assert set(started.values()) <= worker_pids  # ... and ran in one of its processes

    results = _results(tmp_path / "data")
    assert len(results["raw"]) == len(results["objects"]) == len(NAMES)
    assert results == expected
