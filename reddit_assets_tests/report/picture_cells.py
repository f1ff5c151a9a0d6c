"""A daily report's picture read back as its grid cells, for the tests that check what it draws."""

from __future__ import annotations

import base64
import re

_DATA_URI = re.compile(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")
_CELL = re.compile(r'fill="(#[0-9a-f]+)"/><text [^>]*>([^<]*)</text></g>')


def picture_cells(image: str) -> list[tuple[str, str]]:
    """The (fill colour, text) of each grid cell, subreddit by subreddit and oldest day first,
    of the SVG in `image`: a `data:` URI, or Markdown holding one (the report's metadata)."""
    found = _DATA_URI.search(image)
    assert found, f"no SVG data URI in {image[:80]!r}"
    return _CELL.findall(base64.b64decode(found.group(1)).decode())
