"""Gather the report from the Dagster instance: per configured subreddit per day, each
branch's state and its latest materialization's numbers, the checks' status, and for a
partition without data why not.

Partition states come from the same status cache the UI shows (materialized, failed, in
progress), so the report and the UI agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import dagster as dg

from reddit_assets.assets.records import metadata_values
from reddit_assets.config import AppConfig
from reddit_assets.partitions import build_partitions, partition_key
from reddit_assets.report.branches import BRANCHES, LOADED, SCRAPED, SECOND_PASSED, Branch
from reddit_assets.report.today import today_for

# A branch's state in one partition.
DONE = "done"
FAILED = "failed"
RUNNING = "running"
NOT_RUN = "not run yet"
NOT_DUE = "not due yet"
CANNOT_SCRAPE = "cannot be scraped any more"
OFF = "off by flag"
# Partition keys whose check results are asked for by key; more are read whole (_check_statuses).
CHECK_KEYS_PER_QUERY = 5_000
# A partition's overall state (the picture's colours).
COMPLETE = "complete"
PARTIAL = "partial"
STATES = (COMPLETE, PARTIAL, RUNNING, FAILED, NOT_RUN, CANNOT_SCRAPE)
# Short names for metadata keys, e.g. partitions_not_run.
STATE_KEYS = {
    COMPLETE: "complete",
    PARTIAL: "partial",
    RUNNING: "running",
    FAILED: "failed",
    NOT_RUN: "not_run",
    CANNOT_SCRAPE: "cannot_scrape",
}

# Branches shown but left out of a partition's state.
_UNCOUNTED = {branch.name for branch in BRANCHES if not branch.counted}

# (date, subreddit) -> (submission rows, comment rows) in the database, to compare with what
# was recorded; None when the database cannot say.
RowCounter = Callable[[dt.date, str], tuple[int, int] | None]


@dataclass
class Cell:
    """One branch of one partition: its state, numbers, the run that failed, and why."""

    state: str
    values: dict = field(default_factory=dict)
    run_id: str | None = None
    reason: str = ""


@dataclass
class PartitionReport:
    date: dt.date
    subreddit: str
    category: str
    cells: dict[str, Cell]
    checks: dict[str, str] = field(default_factory=dict)  # "asset:check" -> passed, failed, planned

    @property
    def key(self) -> str:
        return str(partition_key(self.date, self.subreddit))

    def value(self, name: str, default=None):
        for cell in self.cells.values():
            if name in cell.values:
                return cell.values[name]
        return default

    @property
    def state(self) -> str:
        states = [c.state for name, c in self.cells.items() if name not in _UNCOUNTED]
        if FAILED in states or "failed" in self.checks.values():
            return FAILED
        if RUNNING in states:
            return RUNNING
        if all(s in (DONE, OFF) for s in states):
            return COMPLETE
        scrape = self.cells[SCRAPED.name].state
        if scrape in (NOT_RUN, CANNOT_SCRAPE):
            return scrape
        return PARTIAL

    @property
    def complete(self) -> bool:
        return self.state == COMPLETE


@dataclass
class DayReport:
    date: dt.date
    rows: list[PartitionReport]

    @property
    def complete(self) -> bool:
        return all(row.complete for row in self.rows)

    def count(self, state: str) -> int:
        return sum(1 for row in self.rows if row.state == state)

    def totals(self, branches: Iterable[Branch] = BRANCHES) -> dict[str, int]:
        """The day's numbers: each branch's totals summed over subreddits, and partitions per state."""
        totals = {}
        for branch in branches:
            for name in branch.totals:
                totals[name] = sum(int(row.cells[branch.name].values.get(name) or 0) for row in self.rows)
        for state in STATES:
            totals[f"partitions_{STATE_KEYS[state]}"] = self.count(state)
        return totals


def _latest_metadata(instance: dg.DagsterInstance, asset_key: dg.AssetKey, keys: list[str]) -> dict[str, dict]:
    """partition key -> metadata values of its latest materialization (one query per page of records)."""
    found: dict[str, dict] = {}
    cursor = None
    while len(found) < len(keys):
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=keys),
            limit=1000,
            cursor=cursor,
        )
        for record in result.records:  # newest first
            key = record.partition_key
            if key is not None and key not in found:
                found[key] = metadata_values(record) | {"_run_id": record.run_id}
        if not result.has_more:
            break
        cursor = result.cursor
    return found


def _failed_run(instance: dg.DagsterInstance, asset_key: dg.AssetKey, key: str) -> str | None:
    records = instance.fetch_failed_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[key]), limit=1
    ).records
    if records:
        return records[0].run_id
    planned = instance.get_latest_planned_materialization_info(asset_key, key)
    return planned.run_id if planned else None


def _check_statuses(instance: dg.DagsterInstance, branches: Iterable[Branch], keys: list[str]) -> dict:
    """(check key, partition key) -> the latest execution's status, lower case."""
    check_keys = [check for branch in branches for check in branch.checks]
    # Dagster filters with one IN list: 3,000 keys (a day's 30-day picture of 100 subreddits)
    # take 0.2 s on PostgreSQL, but a year's 36,500 took minutes per check, where reading
    # every partition's row took 0.6 s. Many keys are read that way and picked out here.
    wanted = set(keys)
    try:
        infos = instance.event_log_storage.get_asset_check_partition_info(
            check_keys, partition_keys=keys if len(wanted) <= CHECK_KEYS_PER_QUERY else None
        )
    except NotImplementedError:
        return {}
    return {
        (i.check_key, i.partition_key): i.latest_execution_status.value.lower()
        for i in infos
        if i.partition_key in wanted
    }


def _branch_cell(
    instance: dg.DagsterInstance,
    branch: Branch,
    key: str,
    statuses: dict,
    metadata: dict,
) -> Cell:
    """The worst state over the branch's assets, and the fields of their latest materializations."""
    cell = Cell(DONE)
    for asset_key in branch.assets:
        status = statuses[asset_key].get(key)
        if status == dg.AssetPartitionStatus.FAILED and cell.state != RUNNING:
            cell.state, cell.run_id = FAILED, _failed_run(instance, asset_key, key)
        elif status == dg.AssetPartitionStatus.IN_PROGRESS:
            planned = instance.get_latest_planned_materialization_info(asset_key, key)
            cell.state, cell.run_id = RUNNING, planned.run_id if planned else None
        elif status is None and cell.state == DONE:
            cell.state = NOT_RUN
    for name, (asset_key, meta_key) in branch.fields.items():
        recorded = metadata[asset_key].get(key, {})
        if meta_key in recorded:
            cell.values[name] = recorded[meta_key]
    return cell


def _explain_second_pass(row: PartitionReport, cell: Cell, config: AppConfig, now: dt.datetime) -> None:
    settings = config.second_pass
    due = settings.possible_from(row.date, config.schedule.timezone)
    if not settings.enabled:
        cell.state, cell.reason = OFF, "off (second_pass.enabled: false)"
    elif now < due:
        cell.state, cell.reason = (
            NOT_DUE,
            f"due from {due.isoformat(timespec='minutes')} ({settings.after_hours:g} h after the day)",
        )
    elif row.cells[SCRAPED.name].state != DONE:
        cell.reason = "not run: no raw file to fetch again"
    else:
        cell.reason = "due, not run yet (sensor second_pass_when_due)"


def _explain(
    row: PartitionReport, branch: Branch, cell: Cell, config: AppConfig, today: dt.date, now: dt.datetime
) -> None:
    """Say why a branch has no data: not run yet, failed (with its run), cannot be scraped any more, off."""
    scrape = row.cells[SCRAPED.name]
    if cell.state == FAILED and branch is not SCRAPED and scrape.state == FAILED and cell.run_id == scrape.run_id:
        cell.reason = f"not run: the raw scrape failed in run {cell.run_id}"
    elif cell.state == FAILED:
        cell.reason = f"failed in run {cell.run_id}" if cell.run_id else "failed"
    elif cell.state == RUNNING:
        cell.reason = f"in progress in run {cell.run_id}" if cell.run_id else "in progress"
    elif cell.state != NOT_RUN:
        return
    elif branch is SCRAPED:
        if row.date < today and row.category != "new":
            cell.state = CANNOT_SCRAPE
            cell.reason = (
                f"'{row.category}' is a snapshot of Reddit now and {row.date} has passed "
                "(a late snapshot needs allow_late_snapshot)"
            )
        elif row.date > today:
            cell.reason = f"{row.date} has not come yet"
        else:
            cell.reason = "not run yet"
    elif branch is SECOND_PASSED:
        _explain_second_pass(row, cell, config, now)
    elif not branch.required(config.flags):
        cell.state, cell.reason = OFF, "off by flag (create_archives_enabled: false)"
    elif scrape.state == CANNOT_SCRAPE:
        cell.state, cell.reason = (
            CANNOT_SCRAPE,
            "no raw file: the day cannot be scraped any more",
        )
    elif scrape.state in (NOT_RUN, FAILED, RUNNING):
        cell.reason = "not run yet: waits for the raw file"
    else:
        cell.reason = "not run yet"


def _compare_rows(row: PartitionReport, cell: Cell, counted: tuple[int, int]) -> None:
    recorded = (cell.values.get("submission_rows"), cell.values.get("comment_rows"))
    cell.values["database_rows"] = f"{counted[0]} + {counted[1]}"
    if tuple(counted) != recorded:
        cell.state = FAILED
        cell.reason = (
            f"the database holds {counted[0]} submission and {counted[1]} comment rows; "
            f"the materialization recorded {recorded[0]} and {recorded[1]}"
        )


def gather(
    instance: dg.DagsterInstance,
    config: AppConfig,
    dates: Iterable[dt.date],
    *,
    today: dt.date | None = None,
    row_counts: RowCounter | None = None,
    branches: tuple[Branch, ...] = BRANCHES,
) -> list[DayReport]:
    """One DayReport per date, one row per configured subreddit."""
    today = today or today_for(config)
    now = dt.datetime.now(dt.UTC)
    dates = sorted(set(dates))
    partitions_def = build_partitions(config)
    keys = [str(partition_key(date, name)) for date in dates for name in config.names]
    asset_keys = [asset_key for branch in branches for asset_key in branch.assets]
    statuses = {a: instance.get_status_by_partition(a, keys, partitions_def) or {} for a in asset_keys}
    metadata = {a: _latest_metadata(instance, a, keys) for a in asset_keys}
    checks = _check_statuses(instance, branches, keys)

    reports = []
    for date in dates:
        rows = []
        for entry in config.subreddits:
            key = str(partition_key(date, entry.name))
            row = PartitionReport(date, entry.name, entry.category, {})
            for branch in branches:
                row.cells[branch.name] = _branch_cell(instance, branch, key, statuses, metadata)
                for check in branch.checks:
                    if (check, key) in checks:
                        row.checks[f"{check.asset_key.to_user_string()}:{check.name}"] = checks[(check, key)]
            for branch in branches:
                _explain(row, branch, row.cells[branch.name], config, today, now)
            loaded = row.cells.get(LOADED.name)
            counted = row_counts(date, entry.name) if row_counts and loaded and loaded.state == DONE else None
            if counted is not None and loaded is not None:
                _compare_rows(row, loaded, counted)
            rows.append(row)
        reports.append(DayReport(date, rows))
    return reports
