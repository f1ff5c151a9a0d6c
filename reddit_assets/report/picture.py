"""The report's picture: a subreddit x day grid (status by colour, submissions in the cells),
as SVG, as a Markdown image the Dagster UI shows inline, and as a standalone HTML page.

Dagster 1.13's UI renders metadata Markdown through react-markdown with rehype-sanitize,
whose schema the UI extends to allow `data:` image sources (ui-core MarkdownWithPlugins),
so a base64 SVG data URI shows as a picture in the metadata table.
"""

from __future__ import annotations

import base64
import html

from reddit_assets.report.branches import BRANCHES, Branch
from reddit_assets.report.gather import (
    CANNOT_SCRAPE,
    COMPLETE,
    FAILED,
    NOT_RUN,
    PARTIAL,
    RUNNING,
    STATES,
    DayReport,
    PartitionReport,
)
from reddit_assets.report.text import describe, describe_checks, summary_line

# state -> (fill, text colour)
COLOURS = {
    COMPLETE: ("#2e7d32", "#ffffff"),
    PARTIAL: ("#f9a825", "#000000"),
    RUNNING: ("#1e88e5", "#ffffff"),
    FAILED: ("#c62828", "#ffffff"),
    NOT_RUN: ("#bdbdbd", "#000000"),
    CANNOT_SCRAPE: ("#f0f0f0", "#777777"),
}
_CELL_W, _CELL_H, _HEADER_H, _CHAR_W = 46, 26, 22, 7


def cell_label(row: PartitionReport) -> str:
    """What a grid cell says: the submissions scraped, or a mark for no data."""
    submissions = row.value("submissions")
    if submissions is not None:
        return str(submissions)
    return {CANNOT_SCRAPE: "×", NOT_RUN: "–", RUNNING: "…", FAILED: "!"}.get(row.state, "?")


def render_svg(days: list[DayReport], *, titles: bool = True) -> str:
    """The grid: one row per subreddit, one column per day (oldest left), a legend below.

    `titles`: a tooltip per cell (partition key and state), shown when the SVG is inline in
    a page; an image shows none, so the UI's copy leaves them out (a third of its size)."""
    days = sorted(days, key=lambda d: d.date)
    names = [row.subreddit for row in days[-1].rows] if days else []
    label_w = 12 + _CHAR_W * max([len(n) for n in names] + [9])
    width = max(label_w + _CELL_W * len(days) + 8, 560)
    legend_y = _HEADER_H + _CELL_H * len(names) + 18
    height = legend_y + 22
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for col, day in enumerate(days):
        x = label_w + col * _CELL_W + _CELL_W // 2
        out.append(f'<text x="{x}" y="{_HEADER_H - 8}" text-anchor="middle">{day.date.strftime("%m-%d")}</text>')
    for line, name in enumerate(names):
        y = _HEADER_H + line * _CELL_H
        out.append(f'<text x="4" y="{y + _CELL_H // 2 + 4}">{html.escape(name)}</text>')
        for col, day in enumerate(days):
            row = next((r for r in day.rows if r.subreddit == name), None)
            if row is None:
                continue
            fill, ink = COLOURS[row.state]
            x = label_w + col * _CELL_W
            title = f"<title>{html.escape(row.key)}: {html.escape(row.state)}</title>" if titles else ""
            out.append(
                f"<g>{title}"
                f'<rect x="{x + 1}" y="{y + 1}" width="{_CELL_W - 2}" height="{_CELL_H - 2}" fill="{fill}"/>'
                f'<text x="{x + _CELL_W // 2}" y="{y + _CELL_H // 2 + 4}" text-anchor="middle" fill="{ink}">'
                f"{html.escape(cell_label(row))}</text></g>"
            )
    x = 4
    for state in STATES:
        fill, _ = COLOURS[state]
        out.append(f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{fill}" stroke="#999999"/>')
        out.append(f'<text x="{x + 16}" y="{legend_y + 10}">{html.escape(state)}</text>')
        x += 24 + _CHAR_W * len(state)
    out.append("</svg>")
    return "".join(out)


# state -> a coloured mark for one line of text, in the grid's colours
MARKS = {COMPLETE: "🟩", PARTIAL: "🟨", RUNNING: "🟦", FAILED: "🟥", NOT_RUN: "⬜", CANNOT_SCRAPE: "▫️"}
_INLINE_LIMIT = 1000  # Dagster's UI shows Markdown metadata inline only below this length


def status_line(day: DayReport) -> str:
    """The day in one line of coloured marks, short enough for the UI to show inline: each
    subreddit with its grid label, or, for many subreddits, the count per state."""
    text = " · ".join(f"{MARKS[row.state]} {row.subreddit} {cell_label(row)}" for row in day.rows)
    if len(text) >= _INLINE_LIMIT:
        text = " · ".join(f"{MARKS[state]} {day.count(state)} {state}" for state in STATES if day.count(state))
    return text


def markdown_image(svg: str, alt: str) -> str:
    """The SVG as a Markdown image with a data URI: shown inline by the Dagster UI."""
    encoded = base64.b64encode(svg.encode()).decode("ascii")
    return f"![{alt}](data:image/svg+xml;base64,{encoded})"


def _html_table(day: DayReport, branches: tuple[Branch, ...]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["subreddit", "state", *(b.name for b in branches), "checks"])
    body = []
    for row in day.rows:
        cells = [
            row.subreddit,
            row.state,
            *(describe(b, row) for b in branches),
            describe_checks(row),
        ]
        fill, _ = COLOURS[row.state]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        body.append(f'<tr style="--state:{fill}" data-state="{html.escape(row.state)}">{tds}</tr>')
    return (
        f"<h2>{html.escape(summary_line(day))}</h2><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def render_html(grid_days: list[DayReport], detail_days: list[DayReport], branches=BRANCHES) -> str:
    """A standalone page: the grid, then a table per day of detail."""
    title = "reddit_assets daily report"
    if detail_days:
        title += f" {detail_days[0].date}" + (f" to {detail_days[-1].date}" if len(detail_days) > 1 else "")
    tables = "".join(_html_table(day, branches) for day in detail_days)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        "tr td:nth-child(2){border-left:6px solid var(--state)}"
        f"</style></head><body><h1>{html.escape(title)}</h1>"
        f"{render_svg(grid_days)}{tables}</body></html>\n"
    )
