"""The Dagster webserver as a child process, serving workspace.yaml from the repo root."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _own_group_with_default_sigint():
    # A background child of a non-interactive shell ignores SIGINT; restore it, and give
    # the child its own process group so that stopping it stops its code server too.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgrp()


@contextlib.contextmanager
def dagster_webserver(env: dict[str, str], log_path: Path, timeout: float = 60):
    """Start `dagster-webserver -w workspace.yaml` on a free port; yield its base URL.

    Waits until the code location has loaded (the GraphQL workspace reports it), so a
    page opened next shows the definitions rather than a loading screen.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_own_group_with_default_sigint,
        )
        try:
            _wait_until_loaded(proc, base_url, log_path, timeout)
            yield base_url
        finally:
            _stop(proc)


_LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } } } }"


def _wait_until_loaded(proc: subprocess.Popen, base_url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            body = requests.post(f"{base_url}/graphql", json={"query": _LOCATIONS}, timeout=5).json()
            entries = body["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e for e in entries if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"]
                if errors:
                    raise RuntimeError(f"code location failed to load: {errors}\n{log_path.read_text()[-3000:]}")
                return
        except (requests.RequestException, ValueError, KeyError, TypeError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"dagster-webserver at {base_url} not ready within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
