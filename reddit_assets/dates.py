"""Day strings (`YYYY-MM-DD`), as partition keys, paths and files spell a day."""

from __future__ import annotations

import datetime as dt
import re

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_day(value: object) -> dt.date:
    """A `YYYY-MM-DD` string as a date; ValueError saying which of the two it is not."""
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date") from None
