"""Run a command as a child process and measure its peak memory, for the hostile-input tests.

The peak resident set size comes from the kernel's accounting of that one child
(`os.wait4`), so what the test process itself holds never counts.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float


def run_measured(args: list[str], *, env: dict | None = None, cwd=None, timeout: float = 120) -> Measured:
    """Run `args` to completion; its exit code, output and peak RSS in MiB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=cwd)
        watchdog = threading.Timer(timeout, child.kill)  # a runaway child is killed, and the test fails
        watchdog.start()
        try:
            _pid, status, usage = os.wait4(child.pid, 0)
        finally:
            watchdog.cancel()
            child.returncode = 0  # reaped by wait4: Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=os.waitstatus_to_exitcode(status),
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            peak_rss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        )
