"""The report in words: one line per branch cell, a terminal table, and a Markdown table for the UI."""

from __future__ import annotations

from reddit_assets.report.branches import ARCHIVED, BRANCHES, LOADED, SCRAPED, SECOND_PASSED, Branch
from reddit_assets.report.gather import CANNOT_SCRAPE, DONE, FAILED, DayReport, PartitionReport


def _numbers(branch: Branch, values: dict) -> str:
    if branch is SCRAPED:
        text = (
            f"{values.get('submissions', '?')} submissions, {values.get('comments', '?')} comments, "
            f"{values.get('api_requests', '?')} requests, {values.get('waits_429', 0)} 429 waits"
        )
        if values.get("late_snapshot"):
            text += ", late snapshot"
        if values.get("reached_day_start") is not None:
            text += f", reached day start: {'yes' if values['reached_day_start'] else 'no'}"
        if values.get("coverage_complete") is not None:
            text += f", coverage: {coverage(values)}"
        return text
    if branch is LOADED:
        return f"{values.get('submission_rows', '?')} submission + {values.get('comment_rows', '?')} comment rows"
    if branch is SECOND_PASSED:
        return (
            f"{values.get('items_returned', '?')} items fetched again ({values.get('items_missing', '?')} gone), "
            f"{values.get('removed', '?')} removed, {values.get('deleted', '?')} deleted, "
            f"{values.get('edited_since_scrape', '?')} edited since the scrape; "
            f"{values.get('second_pass_rows', '?')} rows, archived {values.get('second_pass_object_key', '?')}"
        )
    if branch is ARCHIVED:
        where = "uploaded" if values.get("uploaded") else "kept locally"
        return f"{where}, {values.get('archive_bytes', '?')} bytes, {values.get('object_key', '?')}"
    return ", ".join(f"{k} {v}" for k, v in values.items())


def coverage(values: dict) -> str:
    """A stream day's coverage in words: complete, or the minutes its polls did not cover."""
    if values.get("coverage_complete"):
        return "complete"
    gaps = int(values.get("coverage_gaps") or 0)
    minutes = values.get("minutes_uncovered")
    if not gaps:
        return "day not over yet, no gap so far"
    return f"{minutes} min uncovered in {gaps} gap(s)"


def describe(branch: Branch, row: PartitionReport) -> str:
    """What one branch of one partition holds, or why it holds nothing."""
    cell = row.cells[branch.name]
    if cell.state == DONE:
        return _numbers(branch, cell.values)
    if cell.state == FAILED and cell.values:
        return f"{cell.reason} (last recorded: {_numbers(branch, cell.values)})"
    return cell.reason or cell.state


def describe_checks(row: PartitionReport) -> str:
    if not row.checks:
        return "no results"
    counts: dict[str, int] = {}
    for status in row.checks.values():
        counts[status] = counts.get(status, 0) + 1
    failed = [name for name, status in row.checks.items() if status == "failed"]
    text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return text + (f" ({', '.join(failed)})" if failed else "")


def summary_line(day: DayReport) -> str:
    """The day's verdict; partitions that can never have data are counted apart from missing ones."""
    complete = day.count("complete")
    verdict = "complete" if day.complete else "INCOMPLETE"
    line = f"{day.date}: {verdict}, {complete} of {len(day.rows)} subreddit(s) scraped, loaded and archived"
    never = day.count(CANNOT_SCRAPE)
    return line + (f"; {never} cannot be scraped any more" if never else "")


def render_text(days: list[DayReport], branches: tuple[Branch, ...] = BRANCHES) -> str:
    """The terminal report: per day, one block per subreddit, then a summary line per day."""
    lines = []
    for day in days:
        lines.append(f"== {day.date} ==")
        for row in day.rows:
            lines.append(f"{row.subreddit} ({row.category}): {row.state}")
            for branch in branches:
                lines.append(f"  {branch.name + ':':<10} {describe(branch, row)}")
            lines.append(f"  {'checks:':<10} {describe_checks(row)}")
        lines.append("")
    lines.extend(summary_line(day) for day in days)
    return "\n".join(lines)


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(day: DayReport, branches: tuple[Branch, ...] = BRANCHES) -> str:
    """One row per subreddit: state, each branch, checks."""
    header = ["subreddit", "category", "state", *(b.name for b in branches), "checks"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in day.rows:
        cells = [
            row.subreddit,
            row.category,
            row.state,
            *(describe(b, row) for b in branches),
            describe_checks(row),
        ]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    return "\n".join(lines)
