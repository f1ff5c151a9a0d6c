"""`reddit-assets import` of Pushshift / Arctic Shift dumps: exact day files from both schemas,
bad lines by file:line, a truncated stream, merges across runs, conflicts, and tables loaded
from the imported days without Reddit."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
import zstandard

from reddit_assets.config import load_config
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.raw_file import read_raw_file, write_raw_file
from reddit_assets.migrate.dump_format import DUMP_FORMAT, dump_file, parse_line, retrieval_time
from reddit_assets.migrate.dump_import import import_dumps, scan_dumps
from reddit_assets.migrate.source_file import BAD, CONFLICT, IMPORTED, PRESENT, REPLACED
from reddit_assets_tests.harness import CLI, configure, materialization_metadata, run_job
from reddit_assets_tests.migrate.dumps import comment, epoch, submission, write_dump

D0, D1, D2, D3 = dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)
TZ = "America/New_York"  # UTC-5 in early March: 03:00 UTC belongs to the day before
TODAY = dt.date(2026, 3, 20)
RAW = dg.AssetKey(["reddit", "raw_scrape"])


def _config(tmp_path: Path, names=("alpha", "Beta", "gamma")):
    path = tmp_path / "subreddits.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "start_date": "2026-01-01",
                "schedule": {"cron": "30 23 * * *", "timezone": TZ},
                "second_pass": {"enabled": False},
                "subreddits": [{"name": n} for n in names],
            }
        )
    )
    return load_config(path)


ALPHA_COMMENT_BAD = {
    4: "not JSON",
    5: "no 'id'",
    6: "no 'created_utc'",
    7: "outside 2005-01-01",
    8: "field 'score': must be a whole number",
    9: "not a JSON object but a list",
}


def write_dumps(root: Path) -> dict[str, Path]:
    """Per-subreddit dumps in the older schema, monthly ones in the newer, one truncated file."""
    files = {name: root / name for name in ("alpha_submissions.zst", "alpha_comments.zst", "gamma_submissions.zst")}
    files |= {"RS": root / "monthly" / "RS_2026-03.zst", "RC": root / "monthly" / "RC_2026-03.zst"}
    files["gamma_comments.zst"] = root / "gamma_comments.zst"
    write_dump(
        files["alpha_submissions.zst"],
        [
            submission("s1", "alpha", epoch(D1, 12), old=True),
            submission("s2", "alpha", epoch(D2, 3), old=True),  # 22:00 on D1 in New York
            submission("s3", "alpha", epoch(D2, 15), old=True),
        ],
    )
    write_dump(
        files["alpha_comments.zst"],
        [
            comment("c1", "alpha", epoch(D1, 13), "s1", old=True),
            comment("c2", "alpha", epoch(D1, 14), "s1", "t1_c1", old=True),
            comment("c3", "alpha", epoch(D2, 16), "s3", old=True),
            b'{"id": "broken", "subreddit": "alpha", ',
            {"subreddit": "alpha", "created_utc": epoch(D1, 15), "body": "no id"},
            {"id": "c5", "subreddit": "alpha", "body": "no time"},
            comment("c6", "alpha", 10**11, "s1"),
            comment("c7", "alpha", epoch(D1, 16), "s1", score=1.5),
            b"[1, 2]",
            b"",
        ],
    )
    crosspost = submission("x1", "zzother", epoch(D1, 9)) | {"crosspost_parent_list": [{"subreddit": "alpha"}]}
    write_dump(
        files["RS"],
        [submission(f"o{i}", "zzother", epoch(D1, 10)) for i in range(5)]
        + [submission("t1", "Beta", epoch(D1, 12)), crosspost, submission("s4", "alpha", epoch(D2, 18))],
    )
    write_dump(files["RC"], [comment("k1", "beta", epoch(D1, 13), "t1"), comment("k2", "zzother", epoch(D1, 13), "o1")])
    write_dump(files["gamma_submissions.zst"], [submission(f"g{d.day}", "gamma", epoch(d, 12)) for d in (D1, D2, D3)])
    gamma_comments = [comment(f"h{i}", "gamma", epoch(D1, 12, i), "g1") for i in range(10)] + [
        comment(f"j{i}", "gamma", epoch(D2, 12) + i, "g2", body=hashlib.sha256(str(i).encode()).hexdigest() * 3)
        for i in range(3000)
    ]
    full = write_dump(files["gamma_comments.zst"], gamma_comments)
    files["gamma_comments.zst"].write_bytes(full[: len(full) * 2 // 3])  # cut in the middle of D2's lines
    return files


def _ids(document: dict, key: str) -> list[str]:
    return [item["id"] for item in document[key]]


def test_dumps_use_the_long_window_that_a_default_decompressor_refuses(tmp_path):
    frame = write_dump(tmp_path / "x_comments.zst", [comment("c1", "x1", epoch(D1, 1), "s1")])
    with pytest.raises(zstandard.ZstdError):
        zstandard.ZstdDecompressor().decompressobj().decompress(frame)


def test_file_names_and_both_schemas_of_a_line():
    assert dump_file("RC_2025-12.zst").kind == "comment" and dump_file("RC_2025-12.zst").all_of_reddit
    assert dump_file("RS_2025-12.zst").month == dt.date(2025, 12, 1)
    named = dump_file("CreditCardsIndia_submissions.zst")
    assert (named.kind, named.subreddit) == ("submission", "CreditCardsIndia")
    assert dump_file("RS_2025-13.zst") is None and dump_file("notes.zst") is None
    old = parse_line(json.dumps(submission("a1", "x1", epoch(D1, 1), old=True)).encode(), epoch(TODAY, 0))
    assert (old.created, old.retrieved) == (epoch(D1, 1), epoch(D1, 2))
    new = parse_line(json.dumps(submission("a1", "x1", epoch(D1, 1))).encode(), epoch(TODAY, 0))
    assert new.retrieved == epoch(D1, 2) + 86400 * 30  # Arctic Shift's second retrieval is the newest
    assert retrieval_time({"id": "x"}) == 0


def test_import_splits_dumps_into_exact_days_and_records_them(tmp_path):
    config = _config(tmp_path)
    files = write_dumps(tmp_path / "dumps")
    paths, refused = scan_dumps(tmp_path / "dumps")
    assert paths == sorted(files.values()) and not refused
    data = tmp_path / "data"
    progress: list[str] = []
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        report = import_dumps(
            paths, config=config, data_dir=data, instance=instance, today=TODAY, progress=progress.append
        )
        by_partition = {o.partition: o for o in report.outcomes}
        expected = {
            f"{D1}|alpha": (["s1", "s2"], ["c1", "c2"]),
            f"{D2}|alpha": (["s3", "s4"], ["c3"]),
            f"{D1}|Beta": (["t1"], ["k1"]),
            f"{D1}|gamma": (["g1"], [f"h{i}" for i in range(10)]),
        }
        assert {p for p, o in by_partition.items() if o.status == IMPORTED} == set(expected)
        for partition, (subs, coms) in expected.items():
            day, name = partition.split("|")
            document = read_raw_file(data / "scrapes" / day / f"{name}.json")
            assert (_ids(document, "submissions"), _ids(document, "comments")) == (subs, coms)
            assert document["settings"]["source"] == DUMP_FORMAT and document["api_requests"] == 0
            meta = materialization_metadata(instance, "reddit/raw_scrape", partition)
            assert (meta["submissions"], meta["comments"]) == (len(subs), len(coms))
            assert meta["sha256"] == sha256_file(data / "scrapes" / day / f"{name}.json")
            assert by_partition[partition].recorded == "recorded"

        # every field as the dump had it, its string created_utc included; the sources recorded
        alpha = read_raw_file(data / "scrapes" / str(D1) / "alpha.json")
        assert alpha["submissions"][0] == submission("s1", "alpha", epoch(D1, 12), old=True)
        assert {f["name"] for f in alpha["dump_files"]} == {"alpha_submissions.zst", "alpha_comments.zst"}
        source = next(f for f in alpha["dump_files"] if f["name"] == "alpha_comments.zst")
        assert source["sha256"] == sha256_file(files["alpha_comments.zst"])
        assert source["bytes"] == files["alpha_comments.zst"].stat().st_size
        beta = read_raw_file(data / "scrapes" / str(D1) / "Beta.json")
        assert beta["submissions"][0]["_meta"]["was_deleted_later"] is False

        # bad lines by file:line, the rest imported
        reports = {f.path.name: f for f in report.files}
        shown = dict(reports["alpha_comments.zst"].shown)
        assert sorted(shown) == sorted(ALPHA_COMMENT_BAD)
        for number, reason in ALPHA_COMMENT_BAD.items():
            assert reason in shown[number], (number, shown[number])
        assert reports["RS_2026-03.zst"].other_subreddits == 6 and reports["RS_2026-03.zst"].kept == 2
        assert reports["RC_2026-03.zst"].other_subreddits == 1

        # the truncated file: reported with its offset; the day at the cut and later ones refused
        cut = reports["gamma_comments.zst"]
        size = files["gamma_comments.zst"].stat().st_size
        assert cut.cut and f"at compressed byte {size:,} of {size:,}" in cut.cut and "truncated" in cut.cut
        for day in (D2, D3):
            outcome = by_partition[f"{day}|gamma"]
            assert outcome.status == BAD and "gamma_comments.zst is truncated" in outcome.reason
            assert not (data / "scrapes" / str(day) / "gamma.json").exists()
            assert not instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=RAW, asset_partitions=[f"{day}|gamma"]), limit=1
            ).records
        assert report.exit_code == 1
    assert progress and "days written" in progress[-1]


def test_imported_days_load_into_the_tables_without_reddit(monkeypatch, tmp_path):
    defs = configure(
        monkeypatch, tmp_path, reddit_url="http://127.0.0.1:9", subreddits=[{"name": "alpha"}, {"name": "Beta"}]
    )
    write_dumps(tmp_path / "dumps")
    paths, _ = scan_dumps(tmp_path / "dumps")
    config = load_config(os.environ["REDDIT_ASSETS_CONFIG"])  # UTC days here
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        import_dumps(paths, config=config, data_dir=tmp_path / "data", instance=instance, today=TODAY)
        assert run_job(defs, "database_only_job", D1, "alpha", instance).success
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    with engine.connect() as conn:
        subs = conn.execute(sa.text("SELECT id, created_utc FROM reddit_submissions ORDER BY id")).all()
        coms = conn.execute(
            sa.text("SELECT id, submission_id, parent_id, depth FROM reddit_comments ORDER BY id")
        ).all()
    engine.dispose()
    assert [s[0] for s in subs] == ["s1"]  # UTC: s2 (03:00 on D2) belongs to D2
    assert str(subs[0][1]).startswith("2026-03-01 12:00:00")  # from the string created_utc
    assert [tuple(c) for c in coms] == [("c1", "s1", "t3_s1", 0), ("c2", "s1", "t1_c1", 1)]


def test_days_merge_across_runs_newest_retrieval_wins_and_a_scrape_is_never_overwritten(tmp_path):
    config = _config(tmp_path, names=("alpha",))
    data = tmp_path / "data"
    first = tmp_path / "one" / "alpha_submissions.zst"
    write_dump(first, [submission("s1", "alpha", epoch(D1, 12), old=True), submission("s2", "alpha", epoch(D1, 13))])
    second = tmp_path / "two" / "RS_2026-03.zst"
    newer = submission("s2", "alpha", epoch(D1, 13), retrieved=epoch(D1, 13) + 90 * 86400) | {"score": 99}
    older = submission("s1", "alpha", epoch(D1, 12)) | {"score": -5, "retrieved_utc": epoch(D1, 12) + 10}
    del older["_meta"]
    write_dump(second, [newer, older, submission("s9", "alpha", epoch(D2, 12))])
    comments = tmp_path / "two" / "alpha_comments.zst"
    write_dump(comments, [comment("c1", "alpha", epoch(D1, 14), "s1")])
    scrape = {
        "subreddit": "alpha",
        "date": D2.isoformat(),
        "settings": {"name": "alpha", "category": "new"},
        "scraped_at": "2026-03-02T23:30:00+00:00",
        "api_requests": 3,
        "submissions": [{"id": "z1"}],
        "comments": [],
    }
    scraped = write_raw_file(data / "scrapes" / str(D2) / "alpha.json", scrape)
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        one = import_dumps([first], config=config, data_dir=data, instance=instance, today=TODAY)
        assert [o.status for o in one.outcomes] == [IMPORTED]
        two = import_dumps([comments, second], config=config, data_dir=data, instance=instance, today=TODAY)
        outcomes = {o.partition: o for o in two.outcomes}
        assert outcomes[f"{D1}|alpha"].status == REPLACED and "merged" in outcomes[f"{D1}|alpha"].reason
        day = read_raw_file(data / "scrapes" / str(D1) / "alpha.json")
        assert _ids(day, "submissions") == ["s1", "s2"] and _ids(day, "comments") == ["c1"]
        scores = {s["id"]: s["score"] for s in day["submissions"]}
        assert scores == {"s1": 3, "s2": 99}  # s1: the first run's retrieval is newer; s2: the second's
        assert {f["name"] for f in day["dump_files"]} == {
            "alpha_submissions.zst",
            "RS_2026-03.zst",
            "alpha_comments.zst",
        }
        assert (
            len(
                instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=RAW, asset_partitions=[f"{D1}|alpha"]), limit=5
                ).records
            )
            == 2
        )
        conflict = outcomes[f"{D2}|alpha"]
        assert conflict.status == CONFLICT and "--overwrite" in conflict.reason
        assert sha256_file(data / "scrapes" / str(D2) / "alpha.json") == scraped.sha256
        again = import_dumps([comments, second], config=config, data_dir=data, instance=instance, today=TODAY)
        assert {o.partition: o.status for o in again.outcomes}[f"{D1}|alpha"] == PRESENT


def test_cli_imports_one_dump_file_and_names_bad_lines_by_file_and_line(tmp_path):
    _config(tmp_path)
    files = write_dumps(tmp_path / "dumps")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "REDDIT_ASSETS_CONFIG": str(tmp_path / "subreddits.yaml"),
        "REDDIT_ASSETS_DATA_DIR": str(tmp_path / "data"),
    }
    path = files["alpha_comments.zst"]
    proc = subprocess.run([str(CLI), "import", str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for number, reason in ALPHA_COMMENT_BAD.items():
        assert any(
            line.startswith(f"BAD LINE      {path}:{number}: ") and reason in line for line in proc.stdout.splitlines()
        )
    assert f"{D1}|alpha: 0 submissions, 2 comments; materialization recorded" in proc.stdout
    assert (tmp_path / "data" / "scrapes" / str(D2) / "alpha.json").exists()


def test_worker_processes_give_the_same_days_and_bad_lines_as_in_line_parsing(tmp_path):
    config = _config(tmp_path)
    write_dumps(tmp_path / "dumps")
    paths, _ = scan_dumps(tmp_path / "dumps")
    seen = []
    for workers in (0, 2):
        report = import_dumps(
            paths, config=config, data_dir=tmp_path / f"data{workers}", dry_run=True, today=TODAY, workers=workers
        )
        seen.append(
            (
                [(o.partition, o.status, o.sha256, o.submissions, o.comments) for o in report.outcomes],
                [(f.path.name, f.lines, f.kept, f.other_subreddits, f.shown, f.cut) for f in report.files],
            )
        )
    assert seen[0] == seen[1] and len(seen[0][0]) == 6


def test_a_stream_of_several_frames_is_read_whole_and_a_corrupt_one_stops_where_it_breaks(tmp_path):
    import io

    from reddit_assets.migrate.dump_read import DumpStream

    one = write_dump(tmp_path / "a.zst", [{"id": f"a{i}"} for i in range(1000)])
    two = write_dump(tmp_path / "b.zst", [{"id": f"b{i}"} for i in range(1000)])
    stream = DumpStream(io.BytesIO(one + two))
    lines = b"\n".join(stream.chunks(1000)).split(b"\n")
    assert len(lines) == 2000 and json.loads(lines[-1]) == {"id": "b999"} and stream.cut is None
    assert stream.sha256 == hashlib.sha256(one + two).hexdigest()
    broken = one + b"\x00" * 64 + two
    stream = DumpStream(io.BytesIO(broken))
    lines = b"\n".join(stream.chunks(1000)).split(b"\n")
    assert len(lines) == 1000 and stream.cut.offset == len(one)  # where the broken frame begins
    assert "corrupt zstd data" in stream.cut.problem and stream.size == len(broken)
