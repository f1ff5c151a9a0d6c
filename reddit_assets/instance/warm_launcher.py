"""A run launcher that forks each run's worker from a warm process instead of spawning a
fresh interpreter (dagster.yaml's and deploy/dagster.yaml's `run_launcher`).

Dagster's default launcher asks the code server to spawn a process per run, and each one
spends ~5 CPU-seconds importing Dagster and the definitions before its first step: a
backfill of 100 subreddits is 100 runs. Here the daemon keeps one starter process per
code server (`warm_runner`) that has imported them once and forks a worker per run, which
then runs exactly what `dagster api execute_run` runs. The code a run executes is what is
on disk, as with a spawned worker: the starter is replaced when the code server is
(a reload or deploy) and when a loaded source file or the config file changed.

Runs on one host only: the worker is a child of the daemon's starter, so the webserver
and daemon must share a host to terminate it (the single-host deployment and `dagster
dev`). When the starter cannot be used, the run is launched the default way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from typing import IO

from dagster import DefaultRunLauncher, serialize_value

from reddit_assets.dagster_private import (
    CheckRunHealthResult,
    ExecuteRunArgs,
    LaunchRunContext,
    RepositoryPythonOrigin,
    WorkerStatus,
)

WORKER_PID_TAG = "reddit_assets/run_worker_pid"
WORKER_HOST_TAG = "reddit_assets/run_worker_host"


class StarterUnavailable(Exception):
    """The warm starter could not start a run (the launcher falls back to the code server)."""


class WarmStarter:
    """One `warm_runner` process for one code origin: forks a worker per request."""

    def __init__(self, origin: RepositoryPythonOrigin):
        self.origin = origin
        self._process = subprocess.Popen(
            [origin.executable_path, "-m", "reddit_assets.instance.warm_runner", serialize_value(origin)],
            cwd=getattr(origin.code_pointer, "working_directory", None) or None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._expect("ready")

    def _answer(self) -> dict:
        line = self._stdout.readline()
        if not line:
            raise StarterUnavailable(f"the warm starter exited (code {self._process.wait()})")
        return json.loads(line)

    @property
    def _stdout(self) -> IO[str]:
        assert self._process.stdout is not None
        return self._process.stdout

    def _expect(self, *keys: str) -> dict:
        """The next answer, which must hold one of `keys` (else the starter is ended)."""
        answer = self._answer()
        if not any(key in answer for key in keys):
            self.close()
            raise StarterUnavailable(f"the warm starter answered {answer}")
        return answer

    def start(self, args: ExecuteRunArgs) -> int | None:
        """The forked worker's pid, or None when the starter's code is stale (it has exited)."""
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(serialize_value(args) + "\n")
            self._process.stdin.flush()
        except OSError as exc:
            raise StarterUnavailable(f"the warm starter is gone: {exc}") from exc
        answer = self._expect("pid", "stale")
        if answer.get("stale"):
            self.close()
            return None
        return int(answer["pid"])

    def close(self) -> None:
        """End the starter (its input closes); runs it started go on."""
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()


class WarmRunLauncher(DefaultRunLauncher):
    """Launches each run as a worker forked from a process with Dagster and the definitions
    already imported; falls back to the code server's own launch when that is not possible."""

    def __init__(self, inst_data=None):
        super().__init__(inst_data=inst_data)
        self._lock = threading.Lock()
        self._starters: dict[tuple[str, str], WarmStarter] = {}

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        origin, server_id = run.job_code_origin, _code_server_id(context)
        if origin is None or server_id is None:
            return super().launch_run(context)
        args = ExecuteRunArgs(job_origin=origin, run_id=run.run_id, instance_ref=self._instance.get_ref())
        try:
            pid = self._start(server_id, origin.repository_origin, args)
        except StarterUnavailable as exc:
            self._instance.report_engine_event(
                f"Launching through the code server: the warm run starter is unavailable ({exc}).",
                run,
                cls=self.__class__,
            )
            return super().launch_run(context)
        self._instance.add_run_tags(run.run_id, {WORKER_PID_TAG: str(pid), WORKER_HOST_TAG: socket.gethostname()})
        self._run_ids.add(run.run_id)

    def _start(self, server_id: str, origin: RepositoryPythonOrigin, args: ExecuteRunArgs) -> int:
        key = (server_id, serialize_value(origin))
        with self._lock:
            for stale_key in [k for k in self._starters if k[1] == key[1] and k != key]:  # a reloaded code server
                self._starters.pop(stale_key).close()
            for _attempt in range(2):
                starter = self._starters.get(key)
                if starter is None:
                    starter = self._starters[key] = WarmStarter(origin)
                try:
                    pid = starter.start(args)
                except StarterUnavailable:
                    self._starters.pop(key, None)
                    raise
                if pid is not None:
                    return pid
                self._starters.pop(key, None)  # stale code: load it again once
            raise StarterUnavailable("the code changed again while the starter loaded it")

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        if run is None or WORKER_PID_TAG not in run.tags:
            return super().terminate(run_id)
        if run.is_finished:
            return False
        if run.tags.get(WORKER_HOST_TAG) != socket.gethostname():
            self._instance.report_engine_event(
                f"Cannot terminate: the run's worker is on host {run.tags.get(WORKER_HOST_TAG)}.",
                run,
                cls=self.__class__,
            )
            return False
        self._instance.report_run_canceling(run)
        try:
            # What the code server does for its own workers: an interrupt, which the run turns
            # into a cancellation at the next safe point.
            os.kill(int(run.tags[WORKER_PID_TAG]), signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        """Whether the run's forked worker process is still there (run monitoring fails the run
        when it is not, and run retries may relaunch it)."""
        pid, host = run.tags.get(WORKER_PID_TAG), run.tags.get(WORKER_HOST_TAG)
        if pid is None or host != socket.gethostname():
            # Launched through the code server, or elsewhere: no way to look, as with Dagster's
            # launcher (monitoring would take UNKNOWN for a dead worker and fail the run).
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not a worker of this host's warm starter")
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"the run's worker process {pid} is gone")
        except PermissionError:
            pass  # it exists, under another user
        return CheckRunHealthResult(WorkerStatus.RUNNING)

    def dispose(self) -> None:
        with self._lock:
            while self._starters:
                self._starters.popitem()[1].close()
        super().dispose()


def _code_server_id(context: LaunchRunContext) -> str | None:
    """The id of the code server the run's job was loaded from (it changes on a reload)."""
    remote_origin = context.dagster_run.remote_job_origin
    if context.workspace is None or remote_origin is None:
        return None
    location = context.workspace.get_code_location(remote_origin.repository_origin.code_location_origin.location_name)
    return getattr(location, "server_id", None)
