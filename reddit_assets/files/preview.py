"""A Markdown preview of a day's top posts, for the UI. Pure."""

from __future__ import annotations


def _cell(text: object, width: int = 80) -> str:
    text = " ".join(str(text or "").split())
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("|", "\\|")


def top_posts_markdown(submissions: list[dict], n: int = 5) -> str:
    """The `n` highest-scoring submissions as a Markdown table."""
    if not submissions:
        return "_No submissions._"
    top = sorted(submissions, key=lambda s: s.get("score") or 0, reverse=True)[:n]
    lines = ["| score | comments | title | author |", "| ---: | ---: | --- | --- |"]
    for s in top:
        lines.append(
            f"| {s.get('score') or 0} | {s.get('num_comments') or 0} | {_cell(s.get('title'))} | {_cell(s.get('author'), 30)} |"
        )
    return "\n".join(lines)
