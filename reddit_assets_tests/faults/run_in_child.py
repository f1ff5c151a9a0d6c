"""Run one job for one partition in this process, so a fault test can SIGKILL it mid-way.

    python -m reddit_assets_tests.faults.run_in_child JOB PARTITION_KEY [ASSET_KEY ...]

The definitions load from the environment (REDDIT_ASSETS_CONFIG, DATABASE_URL, ...) like
any deployment; the run uses an ephemeral instance. Exit status 0 when the run succeeded.
"""

import sys

import dagster as dg


def main(argv: list[str]) -> int:
    from reddit_assets.definitions import defs

    job, partition, *assets = argv
    kwargs = {"asset_selection": [dg.AssetKey(a.split("/")) for a in assets]} if assets else {}
    print("child: definitions loaded", flush=True)
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def(job).execute_in_process(
            partition_key=partition, instance=instance, raise_on_error=False, **kwargs
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
