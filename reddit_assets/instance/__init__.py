"""Dagster instance plug-ins: storages that write a run's asset events in batches, a run
launcher that forks run workers from a warm process, a run queue looked at twice a second,
and a backfill tick that follows the backfill's size."""

from reddit_assets.instance.daemon_ticks import set_backfill_tick

set_backfill_tick()
