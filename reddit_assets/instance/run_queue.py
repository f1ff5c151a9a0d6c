"""Dagster's run queue, looked at twice a second (dagster.yaml's `run_coordinator`).

Dagster's QueuedRunCoordinator takes `dequeue_interval_seconds` as a whole number, and at
its smallest (1) the daemon looks every 1.0-1.5 s. A backfill of 20 short runs on a small
machine runs them in waves (4 slots, equal shares of the CPU, so a wave ends together), and
each wave waited that long with every slot empty. The daemon sleeps in half-second steps,
so half a second is the shortest interval that means anything; a look is one query of the
run storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from dagster import Field, Float, QueuedRunCoordinator

MIN_DEQUEUE_INTERVAL_SECONDS = 0.5


class RunQueue(QueuedRunCoordinator):
    """Dagster's run queue with a fractional `dequeue_interval_seconds` (at least 0.5)."""

    @classmethod
    def config_type(cls):
        # Dagster's schema here is a dict of fields, typed as any config schema.
        fields = dict(cast(Mapping[str, Any], super().config_type()))
        fields["dequeue_interval_seconds"] = Field(
            Float,
            is_required=False,
            description=f"How often the daemon looks for runs to launch, in seconds (at least "
            f"{MIN_DEQUEUE_INTERVAL_SECONDS}; fractions allowed).",
        )
        return fields

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        interval = config_value.get("dequeue_interval_seconds")
        if interval is not None and not interval >= MIN_DEQUEUE_INTERVAL_SECONDS:
            raise ValueError(
                f"run_coordinator.config.dequeue_interval_seconds: {interval} is below the "
                f"{MIN_DEQUEUE_INTERVAL_SECONDS} s the daemon can honour"
            )
        queue = super().from_config_value(inst_data, {**config_value, "dequeue_interval_seconds": None})
        if interval is not None:
            # Dagster types the interval int; its daemon only sleeps and compares by it.
            queue._dequeue_interval_seconds = float(interval)  # type: ignore[assignment]
        return queue

    @property
    def dequeue_interval_seconds(self) -> float:  # type: ignore[override]  # a fraction, on purpose (above)
        return self._dequeue_interval_seconds
