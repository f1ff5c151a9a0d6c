"""Type and range checks of every field the tables store, column by column.

A raw file is untrusted input (it may come from an import or an archive), and a value the
database cannot hold must never be stored as something else: SQLite keeps an out-of-range
timestamp as text that breaks every later SELECT, 1e17 seconds becomes year 8319, a score
of 1.5 becomes 1. Each column is checked with a fast whole-column test; only when that fails
is the first bad item looked for, to name it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from typing import TypeGuard

EARLIEST = dt.datetime(2005, 1, 1, tzinfo=dt.UTC).timestamp()  # Reddit began in June 2005
INT64_MAX = 2**63 - 1
MAX_ID_CHARS = 100


class BadItemError(ValueError):
    """An item whose field the tables cannot store as it is; names the item and the field."""

    def __init__(self, kind: str, item_id: object, field: str, problem: str):
        shown = f"#{item_id} (by position)" if isinstance(item_id, int) else _shown(item_id)
        super().__init__(f"{kind} {shown}: field '{field}': {problem}")
        self.item_id, self.field, self.problem = item_id, field, problem


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _latest() -> float:
    return time.time() + 86400  # clocks differ a little; a day ahead is not a scrape from the future


def id_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"an id must be a string, not {type(value).__name__} {_shown(value)}"
    if not value or "\x00" in value or len(value) > MAX_ID_CHARS:
        return f"an id must be 1 to {MAX_ID_CHARS} characters without NUL, not {_shown(value)}"
    return None


_EPOCH_TEXT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?", re.ASCII)


def epoch_seconds(value: object) -> float | int | None:
    """Epoch seconds from a number, or from a numeric string as older Pushshift dumps write
    `created_utc` ("1136074496"); None for anything else (bools included)."""
    if type(value) is int or type(value) is float:
        return value
    if type(value) is str and _EPOCH_TEXT.fullmatch(value):
        return float(value) if "." in value else int(value)
    return None


def _is_number(value: object) -> TypeGuard[int | float]:
    """An int or a float itself (a bool, or any other subclass, is not)."""
    return type(value) in (int, float)


def _time_problem(value: object, latest: float) -> str | None:
    if value is None:
        return None
    seconds = epoch_seconds(value) if type(value) is str else value
    if not _is_number(seconds):
        return f"a time must be epoch seconds (a number or numeric string), not {type(value).__name__} {_shown(value)}"
    if not (math.isfinite(seconds) and EARLIEST <= seconds <= latest):
        return f"time {_shown(seconds)} is outside 2005-01-01 .. now + 1 day"
    return None


def _edited_problem(value: object, latest: float) -> str | None:
    return None if value is False or value is True else _time_problem(value, latest)


def _int_problem(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is not int:
        return f"must be a whole number, not {type(value).__name__} {_shown(value)}"
    if abs(value) > INT64_MAX:
        return f"{_shown(value)} does not fit a 64-bit integer"
    return None


def _float_problem(value: object) -> str | None:
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(value):
        return f"must be a finite number, not {type(value).__name__} {_shown(value)}"
    return None


def _bool_problem(value: object) -> str | None:
    return None if value is None or type(value) is bool else f"must be true or false, not {_shown(value)}"


def _text_problem(value: object) -> str | None:
    return None if value is None or type(value) is str else f"must be text, not {type(value).__name__} {_shown(value)}"


def _all_of(column: list, types: tuple[type, ...]) -> bool:
    return set(map(type, column)) <= set(types)


def _fast_ok(kind: str, column: list) -> bool:
    """True when a whole column passes at once; False means: look item by item."""
    none = type(None)
    if kind == "int":
        if not _all_of(column, (int, none)):
            return False
        values = [v for v in column if v is not None]
        return not values or (-INT64_MAX <= min(values) and max(values) <= INT64_MAX)
    if kind == "text":
        return _all_of(column, (str, none))
    if kind == "bool":
        return _all_of(column, (bool, none))
    if kind in ("time", "edited"):
        values = [epoch_seconds(v) if type(v) is str else v for v in column if v is not None and type(v) is not bool]
        if kind == "time" and len(values) != sum(v is not None for v in column):
            return False  # a bool is not a time
        if not _all_of(values, (int, float)) or any(map(math.isnan, values)):
            return False
        return not values or (EARLIEST <= min(values) and max(values) <= _latest())
    if kind == "id":
        return (
            _all_of(column, (str,))
            and all(column)
            and max(map(len, column), default=0) <= MAX_ID_CHARS
            and not any("\x00" in v for v in column)
        )
    return False


_CHECKS = {
    "int": lambda v, _l: _int_problem(v),
    "float": lambda v, _l: _float_problem(v),
    "bool": lambda v, _l: _bool_problem(v),
    "text": lambda v, _l: _text_problem(v),
    "time": _time_problem,
    "edited": _edited_problem,
    "id": lambda v, _l: id_problem(v),
}


def check_ids(kind: str, items: list[dict]) -> None:
    """Every item's id a non-empty string without NUL; BadItemError names the first that is not."""
    ids = [item["id"] for item in items]
    if not _fast_ok("id", ids):
        check_columns(kind, list(range(len(ids))), {"id": ids}, {"id": "id"})  # named by position


def check_columns(kind: str, ids: list, columns: dict[str, list], kinds: dict[str, str]) -> None:
    """Raise BadItemError for the first item whose field breaks its column's rule."""
    latest = _latest()
    for field, rule in kinds.items():
        column = columns[field]
        if _fast_ok(rule, column):
            continue
        check = _CHECKS[rule]
        for item_id, value in zip(ids, column, strict=True):
            problem = check(value, latest)
            if problem:
                raise BadItemError(kind, item_id, field, problem)
