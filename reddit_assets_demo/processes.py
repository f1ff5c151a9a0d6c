"""Child processes started and stopped as a process group (`dagster dev`, webserver, workers); a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _own_group_default_sigint() -> None:
    # `dagster dev` ignores SIGTERM when started from a non-interactive shell, and a
    # background child of such a shell ignores SIGINT: restore SIGINT, the signal it stops
    # on. Its own group lets stopping it stop its code server and daemon too.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgrp()


def start_process_group(args: list[str], **popen_kwargs) -> subprocess.Popen:
    """`subprocess.Popen(args, **popen_kwargs)` as the leader of a new process group, SIGINT at its default."""
    return subprocess.Popen(args, preexec_fn=_own_group_default_sigint, **popen_kwargs)


def stop_process_group(
    process: subprocess.Popen, timeout: float = 60, sig: int = signal.SIGINT, kill_leftovers: bool = False
) -> None:
    """Send `sig` to the process's group and wait up to `timeout` seconds for the leader;
    SIGKILL the group if it is still running. With `kill_leftovers`, SIGKILL the group
    anyway once the leader is gone (children that outlive it, such as prefork workers)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if kill_leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
