"""Dagster instance plug-ins: storages that write a run's asset events in batches."""
