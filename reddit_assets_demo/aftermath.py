"""What became of a generated item a day and a half later, as `/api/info` shows it.

Listings and comment pages show items as generated (the first look); `/api/info` shows
their later state, so a second pass has something to record: scores moved on, and a few
items were removed (by a moderator, AutoModerator, the spam filter or Reddit's admins),
deleted by their author, edited, locked, or are not returned at all. Deterministic per
item id and seed, so a rerun sees the same later state.
"""

from __future__ import annotations

import hashlib

# Shares of items, in this order of precedence.
MISSING = 0.01
REMOVED = 0.04
DELETED = 0.03
EDITED = 0.05
LOCKED = 0.02  # submissions only
# Reddit's removed_by_category values for a removal by someone other than the author.
REMOVERS = ("moderator", "automod_filtered", "reddit", "anti_evil_ops")
# The later look is this long after the item was created.
LATER_SECONDS = 36 * 3600


def _draws(item_id: str, seed: int) -> list[float]:
    """Eight uniform numbers in [0, 1) from the item id."""
    digest = hashlib.blake2b(f"{seed}|aftermath|{item_id}".encode(), digest_size=16).digest()
    return [int.from_bytes(digest[i : i + 2], "big") / 65536 for i in range(0, 16, 2)]


def is_missing(item_id: str, seed: int = 0) -> bool:
    """Whether `/api/info` no longer returns the item at all."""
    return _draws(item_id, seed)[0] < MISSING


def later_state(item: dict, kind: str, seed: int = 0) -> dict:
    """A copy of the generated submission (`kind` "t3") or comment ("t1") as it is later."""
    draw = _draws(item["id"], seed)
    text_key = "selftext" if kind == "t3" else "body"
    out = dict(item)
    score = int(item.get("score") or 0)
    # Most scores keep climbing; some fall back a little.
    out["score"] = score + int(abs(score) * 1.5 * draw[1]) - (int(3 * draw[2]) if draw[2] < 0.3 else 0)
    if "ups" in out:
        out["ups"] = out["score"]
    if kind == "t3" and isinstance(item.get("upvote_ratio"), float):
        out["upvote_ratio"] = round(min(1.0, max(0.0, item["upvote_ratio"] + (draw[3] - 0.5) / 10)), 2)
    already_gone = item.get("removed_by_category") is not None or item.get(text_key) in ("[removed]", "[deleted]")
    if already_gone:
        return out
    created = float(item.get("created_utc") or 0)
    chance = draw[4]
    if chance < REMOVED:
        if kind == "t3":
            out["removed_by_category"] = REMOVERS[int(draw[5] * len(REMOVERS))]
            out[text_key] = "[removed]" if item.get("is_self") else item.get(text_key, "")
        else:
            out.update(author="[deleted]", author_fullname=None, body="[removed]")
    elif chance < REMOVED + DELETED:
        out.update(author="[deleted]", author_fullname=None)
        out[text_key] = "[deleted]" if kind == "t1" or item.get("is_self") else item.get(text_key, "")
        if kind == "t3":
            out["removed_by_category"] = "deleted"
    elif chance < REMOVED + DELETED + EDITED:
        out["edited"] = round(created + LATER_SECONDS * (0.5 + draw[5] / 2), 1)
        out[text_key] = (item.get(text_key) or "") + "\n\nEdit: thanks for all the answers!"
    if kind == "t3" and draw[6] < LOCKED:
        out["locked"] = True
    return out
