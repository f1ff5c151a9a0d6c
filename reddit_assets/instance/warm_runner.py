"""The warm run starter: a process that has imported Dagster and the definitions once and
forks a run worker per request (`python -m reddit_assets.instance.warm_runner ORIGIN`).

A forked worker runs exactly what `dagster api execute_run` runs, without the seconds a
fresh interpreter spends importing Dagster and the definitions. Protocol, one JSON line
each way: the starter says {"ready": true} once loaded; per request (a serialized
ExecuteRunArgs) it answers {"pid": N}, or {"stale": true} and exits when a loaded source
file or the config file changed since it loaded them (the launcher then starts a fresh one).
End of input ends the starter; runs already forked go on.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import signal
import sys
import threading
import traceback
from pathlib import Path

# What every run imports lazily, imported once here so no forked worker pays for it again:
# the tables' PostgreSQL driver (on a run's first connection), the instance's storages and
# Dagster's in-process executor (when a run opens them: RUN_MODULES), the archive's S3 client
# and Parquet writer. A name missing from a future version is skipped; the run then imports it itself.
_PRELOAD = (
    "psycopg",
    "reddit_assets.instance.sqlite",
    "reddit_assets.instance.postgres",
    "upath.implementations.local",
    "boto3.s3.transfer",
    "pyarrow.parquet",
)


def _preload() -> None:
    from reddit_assets.dagster_private import RUN_MODULES

    for name in (*_PRELOAD, *RUN_MODULES):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _watched_files(working_directory: str | None) -> dict[str, int]:
    """mtime of every loaded module's file under the code's folder, and of the config file."""
    from reddit_assets.config import config_path

    roots = [str(Path(working_directory or os.getcwd()).resolve()), str(Path(__file__).resolve().parents[1])]
    paths = {str(config_path().resolve())}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and any(path.startswith(root) for root in roots):
            paths.add(path)
    return {path: _mtime(path) for path in paths}


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _run_worker(request: str, protocol_fds: tuple[int, int]) -> None:
    """In the forked child: become `dagster api execute_run` for one run, then exit."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the run's own subprocesses are waited for
        for fd in protocol_fds:
            os.close(fd)
        random.seed()  # not the sequence every sibling inherited
        from reddit_assets.dagster_private import execute_run

        execute_run(request)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        _fail_unfinished_run(request, traceback.format_exc(limit=5))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _fail_unfinished_run(request: str, error: str) -> None:
    """A worker that broke before or outside the run's own error handling still ends the run
    (a run left STARTING would hold its queue slot)."""
    try:
        from dagster import DagsterInstance, deserialize_value

        from reddit_assets.dagster_private import ExecuteRunArgs

        args = deserialize_value(request, ExecuteRunArgs)
        if args.instance_ref is None:
            raise ValueError(f"run {args.run_id}: the request names no instance to fail it in")
        with DagsterInstance.from_ref(args.instance_ref) as instance:
            run = instance.get_run_by_id(args.run_id)
            if run is not None and not run.is_finished:
                instance.report_run_failed(run, f"The run worker failed outside the run: {error}")
    except Exception:
        traceback.print_exc()


def main(argv: list[str]) -> int:
    from dagster import deserialize_value

    from reddit_assets.dagster_private import RepositoryPythonOrigin, import_run_command

    # The protocol keeps its own copies of stdin/stdout; fd 1 becomes stderr so nothing a run
    # prints can corrupt an answer.
    requests = os.fdopen(os.dup(0), "r")
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)

    origin = deserialize_value(argv[0], RepositoryPythonOrigin)
    origin.code_pointer.load_target()
    import_run_command()  # what every worker runs, imported once here

    _preload()

    if threading.active_count() > 1:  # forking a threaded process can deadlock the child
        answers.write(json.dumps({"error": f"{threading.active_count()} threads after loading"}) + "\n")
        answers.flush()
        return 1
    watched = _watched_files(getattr(origin.code_pointer, "working_directory", None))
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished workers are reaped by the kernel
    answers.write(json.dumps({"ready": True}) + "\n")
    answers.flush()
    for request in requests:
        if any(_mtime(path) != mtime for path, mtime in watched.items()):
            answers.write(json.dumps({"stale": True}) + "\n")
            answers.flush()
            return 0
        pid = os.fork()
        if pid == 0:
            _run_worker(request, (requests.fileno(), answers.fileno()))
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C to the daemon's group: stop without a traceback in its log
        sys.exit(130)
