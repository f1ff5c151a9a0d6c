"""Event log entries as a run of database_only_job writes them, for the storage tests."""

from __future__ import annotations

import logging
import time

from dagster import DagsterEvent, DagsterEventType, EventLogEntry


def run_event(event_type: DagsterEventType, data, run_id: str, step_key: str = "check") -> EventLogEntry:
    """An entry of `run_id`'s step `step_key` with `data` as its event-specific data."""
    event = DagsterEvent(
        event_type_value=event_type.value, job_name="database_only_job", event_specific_data=data, step_key=step_key
    )
    return EventLogEntry(
        error_info=None,
        level=logging.DEBUG,
        user_message="",
        run_id=run_id,
        timestamp=time.time(),
        step_key=step_key,
        job_name="database_only_job",
        dagster_event=event,
    )
