"""Dagster instance plug-ins: storages that write a run's asset events in batches, a run
launcher that forks run workers from a warm process, a run queue looked at twice a second,
and a shorter backfill tick."""

from reddit_assets.instance.daemon_ticks import shorten_backfill_tick

shorten_backfill_tick()
