"""Dagster instance plug-ins: storages that write a run's asset events in batches, a run
launcher that forks run workers from a warm process, a run queue looked at twice a second,
and an instance class whose dagster.yaml chooses the backfill tick (ours follows the
backfill's size; Dagster's is a fixed 30 s)."""
