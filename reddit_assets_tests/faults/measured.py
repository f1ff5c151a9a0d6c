"""Run a command as a child process and measure its peak memory, for the hostile-input tests.

The peak resident set size comes from the kernel's accounting of that one process
(`os.wait4`). A process counts the memory of whatever forked it until it calls exec, so
the command is started by a small launcher (this module run as a script, a bare Python of
about 10 MB) rather than by the test process, whose own hundreds of MB would count too.

    python -m reddit_assets_tests.faults.measured PEAK_FILE COMMAND [ARG ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float


def run_measured(args: list[str], *, env: dict | None = None, cwd=None, timeout: float = 120) -> Measured:
    """Run `args` to completion; its exit code, output and peak RSS in MiB."""
    with tempfile.TemporaryDirectory(prefix="measured-") as tmp:
        peak_file = Path(tmp) / "peak"
        done = subprocess.run(
            [sys.executable, "-m", "reddit_assets_tests.faults.measured", str(peak_file), *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return Measured(
            returncode=done.returncode,
            stdout=done.stdout.decode("utf-8", "replace"),
            stderr=done.stderr.decode("utf-8", "replace"),
            peak_rss_mb=int(peak_file.read_text()) / 1024,  # ru_maxrss is in KiB on Linux
        )


def _launch(peak_file: str, args: list[str]) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child becomes the command
        try:
            os.execvp(args[0], args)
        finally:
            os._exit(127)
    _pid, status, usage = os.wait4(pid, 0)
    Path(peak_file).write_text(str(usage.ru_maxrss))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(_launch(sys.argv[1], sys.argv[2:]))
