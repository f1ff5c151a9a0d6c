"""The Dagster webserver as a child process, serving workspace.yaml from the repo root."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import requests

from reddit_assets_demo.processes import free_port, start_process_group, stop_process_group

ROOT = Path(__file__).resolve().parents[2]


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
        proc = start_process_group(
            [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_loaded(proc, base_url, log_path, timeout)
            yield base_url
        finally:
            if proc.poll() is None:
                stop_process_group(proc, timeout=20)


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
    raise RuntimeError(
        f"dagster-webserver at {base_url} not ready within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}"
    )
