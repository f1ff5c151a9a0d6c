"""The backfill daemon's tick: at least once a second, never more than a third of a core.

A backfill's runs are requested on the daemon's tick and the backfill is marked complete on
a later one. At Dagster's fixed 30 s that is up to 30 s before the first run and again after
the last, longer than a whole small backfill's work; at a fixed 5 s, still 4-5 s each way,
40% of a 600-partition backfill's wall time. A short fixed tick is wrong at the other end: a
tick of a year's backfill (36,500 partitions) reads and rewrites the whole backfill's state,
about 1.5 s of the daemon, and at a fixed 2 s the daemon took three quarters of a core from
the runs (the year's database backfill took 646 s; 337 s at 5 s). So the daemon waits
`TICK_TO_WORK` times as long as its last tick took, and at least `MIN_TICK_SECONDS`.

Dagster has no setting for this interval: its backfill loop reads a module constant once,
then sleeps `max(0, constant - last tick's duration)` after each tick. The daemon process
sets that constant to a `BackfillTick`, a number whose subtraction is the rule above (if a
future Dagster computes the sleep otherwise, it is a plain `MIN_TICK_SECONDS` tick). The
daemon process sets it when it creates its instance, a `TickingInstance` (instance/ticking.py)
whose dagster.yaml says `backfill_tick: adaptive` (the default; `dagster` keeps Dagster's).
Only the pre-sensor asset daemon (automation without sensors, which we do not use) reads the
constant too.
"""

from __future__ import annotations

from reddit_assets.dagster_private import daemon_controller

MIN_TICK_SECONDS = 1.0
TICK_TO_WORK = 3.0
# The daemon controller's module constant its backfill loop reads.
DAEMON_INTERVAL = "DEFAULT_DAEMON_INTERVAL_SECONDS"


class BackfillTick(float):
    """`MIN_TICK_SECONDS` as a number; `tick - d` is how long to sleep after a tick of d seconds."""

    def __new__(cls) -> BackfillTick:
        return super().__new__(cls, MIN_TICK_SECONDS)

    def __sub__(self, tick_duration: float) -> float:
        return max(MIN_TICK_SECONDS, TICK_TO_WORK * tick_duration) - tick_duration


def set_backfill_tick() -> None:
    """Set the tick in the daemon process (which has imported the controller by now); a no-op
    anywhere else, so other processes do not pay for importing the daemons."""
    controller = daemon_controller()
    if controller is not None:
        setattr(controller, DAEMON_INTERVAL, BackfillTick())
