"""Reddit's JSON shapes, encoded to bytes: things (``t3``, ``t5``, ...) and ``Listing`` envelopes."""

from __future__ import annotations

from reddit_assets_demo.httpd import dumps


def thing(kind: str, data: dict) -> bytes:
    return b'{"kind":"' + kind.encode() + b'","data":' + dumps(data) + b"}"


def listing(children: list[bytes], after: str | None = None, before: str | None = None, dist: int | None = -1) -> bytes:
    """A ``Listing`` of encoded things; ``dist`` -1 counts them, ``None`` sends null (as in comment trees)."""
    dist_b = b"null" if dist is None else str(len(children) if dist == -1 else dist).encode()
    return b"".join(
        (
            b'{"kind":"Listing","data":{"after":',
            dumps(after),
            b',"dist":',
            dist_b,
            b',"modhash":null,"geo_filter":"","children":[',
            b",".join(children),
            b'],"before":',
            dumps(before),
            b"}}",
        )
    )
