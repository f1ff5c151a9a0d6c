"""`TickingInstance`: a Dagster instance whose dagster.yaml chooses the backfill daemon's tick.

`backfill_tick: adaptive` (the default) is ours (instance/daemon_ticks.py): at least once a
second, never more than a third of a core. `backfill_tick: dagster` leaves Dagster's fixed
30 s, the tested fallback if a Dagster upgrade breaks ours. Measured (benchmarks/backfill.py,
600 partitions): Dagster's tick makes the backfill 2.2-2.5x as long, 10-12 s before the
first run and 12-15 s after the last.
"""

from __future__ import annotations

from typing import Any

from dagster import DagsterInstance, Enum, EnumValue, Field

from reddit_assets.dagster_private import InstanceRef
from reddit_assets.instance.daemon_ticks import set_backfill_tick

ADAPTIVE, DAGSTER = "adaptive", "dagster"


class TickingInstance(DagsterInstance):
    """A Dagster instance that sets the backfill tick dagster.yaml chooses, in the daemon process."""

    def __init__(self, *args: Any, backfill_tick: str = ADAPTIVE, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.backfill_tick = backfill_tick
        if backfill_tick == ADAPTIVE:
            set_backfill_tick()

    @classmethod
    def config_schema(cls) -> dict[str, Field]:
        """The `backfill_tick` key, the one dagster.yaml setting this instance class adds."""
        return {
            "backfill_tick": Field(
                Enum("BackfillTick", [EnumValue(ADAPTIVE), EnumValue(DAGSTER)]),
                is_required=False,
                default_value=ADAPTIVE,
                description="adaptive: our tick (1 s or more, at most a third of a core); dagster: Dagster's 30 s.",
            )
        }

    @staticmethod
    def config_defaults(base_dir: str) -> Any:
        # Dagster asks a custom instance class for its defaults; DagsterInstance itself has none.
        return InstanceRef.config_defaults(base_dir)
