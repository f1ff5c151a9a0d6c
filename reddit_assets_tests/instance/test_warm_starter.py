"""The warm starter's protocol with a real starter process: a worker per request, retirement
when a loaded source file changes, and a refusal (not a hang) when the code cannot load."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.origin import JobPythonOrigin

from reddit_assets.dagster_private import ExecuteRunArgs, RepositoryPythonOrigin
from reddit_assets.instance.warm_launcher import StarterUnavailable, WarmStarter

pytestmark = [pytest.mark.slow, pytest.mark.integration]

JOB = """
import os
import dagster as dg

@dg.op
def write_pid():
    with open(os.environ["WARM_TEST_OUT"], "a") as out:
        out.write(f"{os.getpid()}\\n")

@dg.job(executor_def=dg.in_process_executor)
def hello():
    write_pid()

defs = dg.Definitions(jobs=[hello])
"""


def _origin(folder: Path, module: str) -> RepositoryPythonOrigin:
    return RepositoryPythonOrigin(
        executable_path=sys.executable,
        code_pointer=ModuleCodePointer(module, "defs", str(folder)),
        container_image=None,
        entry_point=None,
        container_context=None,
    )


def _wait_gone(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"worker {pid} still running")


def test_starter_forks_a_worker_per_run_and_retires_when_code_changes(tmp_path, monkeypatch):
    code = tmp_path / "code"
    code.mkdir()
    (code / "warm_job.py").write_text(JOB)
    out = tmp_path / "pids.txt"
    monkeypatch.setenv("WARM_TEST_OUT", str(out))
    monkeypatch.setenv("REDDIT_ASSETS_CONFIG", str(tmp_path / "subreddits.yaml"))  # watched, need not exist
    monkeypatch.syspath_prepend(str(code))
    origin = _origin(code, "warm_job")
    (tmp_path / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        import warm_job

        runs = [
            instance.create_run_for_job(warm_job.hello, job_code_origin=JobPythonOrigin("hello", origin))
            for _ in range(2)
        ]
        starter = WarmStarter(origin)
        try:
            pids = [starter.start(ExecuteRunArgs(run.job_code_origin, run.run_id, instance.get_ref())) for run in runs]
            for pid in pids:
                _wait_gone(pid)
            assert [instance.get_run_by_id(r.run_id).status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
            assert sorted(int(line) for line in out.read_text().split()) == sorted(pids)  # each run in its worker

            (code / "warm_job.py").write_text(JOB + "\n# edited\n")
            os.utime(code / "warm_job.py", ns=(time.time_ns(), time.time_ns() + 10**9))
            stale = instance.create_run_for_job(warm_job.hello, job_code_origin=JobPythonOrigin("hello", origin))
            assert starter.start(ExecuteRunArgs(stale.job_code_origin, stale.run_id, instance.get_ref())) is None
            assert instance.get_run_by_id(stale.run_id).status == dg.DagsterRunStatus.NOT_STARTED  # left to relaunch
        finally:
            starter.close()


def test_starter_refuses_code_that_does_not_load(tmp_path, monkeypatch):
    code = tmp_path / "code"
    code.mkdir()
    (code / "broken_defs.py").write_text("raise RuntimeError('broken definitions')\n")
    with pytest.raises(StarterUnavailable, match="exited"):
        WarmStarter(_origin(code, "broken_defs"))
