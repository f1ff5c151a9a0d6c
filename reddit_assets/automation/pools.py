"""The `reddit_api` pool's limit, created in the instance before any run needs it.

Dagster creates a pool's limit from `concurrency.pools.default_limit` lazily, during the
run queue's first pass over queued runs in that pool, and that one pass holds no run back:
a first backfill could start `max_concurrent_runs` scrapes at once. Creating the limit up
front (the daemon's unit, `make demo`, `reddit-assets init-pools`) closes that gap.
"""

from __future__ import annotations

import dagster as dg

from reddit_assets.assets.declarations import REDDIT_POOL


class PoolLimitMissing(Exception):
    """The instance has no limit for the pool and no default_limit to create one from."""


def ensure_pool_limit(instance: dg.DagsterInstance, pool: str = REDDIT_POOL) -> tuple[int, bool]:
    """The pool's limit, and whether this call created it from the instance's default_limit.

    A limit that exists (a user's `dagster instance concurrency set`) is never changed.
    """
    storage = instance.event_log_storage
    limits = {limit.name: limit.limit for limit in storage.get_pool_limits()}
    if pool in limits:
        return limits[pool], False
    default = instance.global_op_concurrency_default_limit
    if default is None:
        raise PoolLimitMissing(
            f"pool {pool!r} has no limit and the Dagster instance's dagster.yaml sets no "
            f"concurrency.pools.default_limit, so nothing would hold scraping runs back. Set "
            f"default_limit there, or run `dagster instance concurrency set {pool} 2`."
        )
    # What the run queue would do on its first pass; marked as the default, so a later
    # change of default_limit in dagster.yaml still applies to it.
    storage.initialize_concurrency_limit_to_default(pool)
    return default, True
