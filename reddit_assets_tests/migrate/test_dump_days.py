"""Building one dump day from spill files written by several parsing processes: the newest
retrieval wins, on a tie the later line (by source file and line number) whatever file or
order it was spilled in; and a worker's disk error reaches the importer whole."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

from reddit_assets.files.atomic import DiskWriteError
from reddit_assets.files.raw_file import read_raw_file
from reddit_assets.migrate.dump_days import DayJob, build_day

DAY = dt.date(2026, 3, 1)
SOURCES = (("a_comments.zst", "0" * 64, 10), ("b_comments.zst", "1" * 64, 20))


def _record(item_id: str, retrieved: float, index: int, number: int, body: str) -> bytes:
    line = json.dumps({"id": item_id, "created_utc": 1772400000, "retrieved_utc": retrieved, "body": body})
    return f"c\t{item_id}\t{retrieved!r}\t1772400000.0\t{index}\t{number}\t{line}\n".encode()


def _bodies(tmp_path: Path, spilled: list[bytes]) -> dict[str, str]:
    paths = []
    for n, data in enumerate(spilled):
        paths.append(tmp_path / f"alpha.{n}.ndjson")
        paths[-1].write_bytes(data)
    staged = tmp_path / f"day-{len(list(tmp_path.glob('day-*')))}.json"
    built = build_day(DayJob(DAY, "alpha", tuple(paths), staged, tmp_path / "none.json", SOURCES, False))
    assert built.comments == 2
    document = read_raw_file(staged)
    assert [f["name"] for f in document["dump_files"]] == ["a_comments.zst", "b_comments.zst"]
    return {c["id"]: c["body"] for c in document["comments"]}


def test_ties_go_to_the_later_line_in_any_spill_order(tmp_path):
    early, late = _record("x1", 5.0, 0, 9, "early"), _record("x1", 5.0, 1, 2, "late")
    newer, older = _record("x2", 7.0, 0, 3, "newer"), _record("x2", 6.0, 1, 4, "older")
    expected = {"x1": "late", "x2": "newer"}
    assert _bodies(tmp_path, [early + newer, late + older]) == expected
    assert _bodies(tmp_path, [late + older, early + newer]) == expected
    assert _bodies(tmp_path, [older + late, newer + early]) == expected


def test_a_disk_write_error_survives_pickling():
    error = DiskWriteError(Path("/data/x.json"), OSError(28, "No space left on device"))
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, DiskWriteError)
    assert (str(again), again.errno, again.path) == (str(error), 28, "/data/x.json")
