"""The backfill daemon's tick, shortened from Dagster's fixed 30 seconds.

A backfill's runs are requested on the daemon's tick and the backfill is marked complete on
a later one: at 30 s that is up to 30 s before the first run and again after the last,
longer than a whole small backfill's work. Not shorter than 5 s: a tick of a year's backfill
(36,500 partitions) reads and rewrites the whole backfill's state, about 1.5 s of the daemon,
and at 2 s the daemon took three quarters of a core from the runs (the year's database
backfill took 646 s; 337 s at 5 s with the same launcher and queue). Dagster reads the interval from a module
constant with no setting of its own, so the daemon process sets it when it loads our
instance plug-ins (every `dagster.yaml` of ours names one). The other daemons have their
own intervals; only the pre-sensor asset daemon (automation without sensors, which we do
not use) reads this one too.
"""

from __future__ import annotations

import sys

BACKFILL_TICK_SECONDS = 5


def shorten_backfill_tick() -> None:
    """Set the tick in the daemon process (which has imported the controller by now); a no-op
    anywhere else, so other processes do not pay for importing the daemons."""
    controller = sys.modules.get("dagster._daemon.controller")
    if controller is not None:
        controller.DEFAULT_DAEMON_INTERVAL_SECONDS = BACKFILL_TICK_SECONDS
