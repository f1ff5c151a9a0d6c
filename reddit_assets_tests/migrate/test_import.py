"""`reddit-assets import`: old scrape files (ours and URS's) -> raw files, recorded
materializations, and database loads that never call Reddit."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from reddit_assets.cli import main
from reddit_assets.config import load_config
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets.migrate.importer import import_directory
from reddit_assets.migrate.source_file import BAD, CONFLICT, IMPORTED, PRESENT, REPLACED
from reddit_assets.migrate.urs_format import URS_FORMAT
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_tests.harness import CLI, configure, materialization_metadata, run_job

DAY1, DAY2, DAY3 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 5)
RAW = dg.AssetKey(["reddit", "raw_scrape"])
SUBMISSIONS = dg.AssetKey(["reddit", "submissions"])


# -- source files of the old system ---------------------------------------------------------


def _data(name, day, n=6):
    return generate_subreddit(name, day, n_submissions=n, comments_per_submission=(1, 5), popular_threads=0)


def our_document(name, day, n=6) -> dict:
    data = _data(name, day, n)
    return {
        "subreddit": name,
        "date": day.isoformat(),
        "settings": {
            "name": name,
            "category": "top",
            "n_results": n,
            "time_filter": "day",
            "query": None,
            "comments": "all",
        },
        "scraped_at": dt.datetime.combine(day, dt.time(23, 30), tzinfo=dt.UTC).isoformat(),
        "api_requests": n + 2,
        "submissions": data.submissions,
        "comments": [c for s in data.submissions for c in data.comments.get(s["id"], [])],
    }


def write_ours(path: Path, document: dict) -> Path:
    write_raw_file(path, document)
    return path


def _urs_time(epoch: float, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%d %H:%M:%S")


def urs_submission(s: dict, tz: ZoneInfo = ZoneInfo("UTC")) -> dict:
    """What URS's Objectify.make_submission writes for one submission."""
    return {
        "author": s["author"] if s["author"] == "[deleted]" else "u/" + s["author"],
        "created_utc": _urs_time(s["created_utc"], tz),
        "distinguished": s["distinguished"],
        "edited": _urs_time(s["edited"], tz) if s["edited"] else False,
        "id": s["id"],
        "is_original_content": s["is_original_content"],
        "is_self": s["is_self"],
        "link_flair_text": s["link_flair_text"],
        "locked": s["locked"],
        "name": s["name"],
        "nsfw": s["over_18"],
        "num_comments": s["num_comments"],
        "permalink": s["permalink"],
        "score": s["score"],
        "selftext": s["selftext"],
        "spoiler": s["spoiler"],
        "stickied": s["stickied"],
        "title": s["title"],
        "upvote_ratio": s["upvote_ratio"],
        "url": s["url"],
    }


def urs_document(name, day, *, category="top", n=6, time_filter="day", tz=ZoneInfo("UTC"), rules=True) -> dict:
    data = _data(name, day, n)
    document = {
        "scrape_settings": {
            "subreddit": name,
            "category": category,
            "n_results_or_keywords": str(n),
            "time_filter": time_filter,
        },
        "data": [urs_submission(s, tz) for s in data.submissions],
    }
    if rules:
        document["subreddit_rules"] = {
            "rules": [{"short_name": "Be nice", "priority": 0}],
            "post_requirements": {"title_text_min_length": 5},
        }
    return document


def write_json(path: Path, document) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=4))
    return path


def _raw_materializations(instance, partition):
    return instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW, asset_partitions=[partition]), limit=10
    ).records


def meta_of(instance, day, name):
    return materialization_metadata(instance, "reddit/raw_scrape", f"{day}|{name}")


def _rows(db_url, table, name, day, columns="id"):
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(f"SELECT {columns} FROM {table} WHERE subreddit = :s AND scrape_date = :d ORDER BY id"),
            {"s": name, "d": day},
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


# -- the mixed folder, through the real command ---------------------------------------------


def mixed_folder(root: Path) -> dict[str, Path]:
    """Good files of both formats, known non-subreddit URS output, and broken files."""
    alpha = our_document("alpha", DAY1)
    files = {
        # ours, at a path unrelated to its partition: "anywhere under DIR"
        "ours": write_ours(root / "misc" / "alpha-export.json", alpha),
        # URS layout; the file says `beta`, the config `Beta` (Reddit names ignore case)
        "urs": write_json(
            root / "scrapes" / DAY2.isoformat() / "subreddits" / "beta-top-6-results-past-day.json",
            urs_document("beta", DAY2),
        ),
        # URS without a date folder: the date comes from the newest submission
        "urs_loose": write_json(
            root / "loose" / "gamma-new-6-results.json",
            urs_document("gamma", DAY3, category="new", time_filter=None, rules=False),
        ),
        # a subreddit nobody configured yet
        "unconfigured": write_json(
            root / "scrapes" / DAY2.isoformat() / "subreddits" / "newsub-hot-4-results.json",
            urs_document("newsub", DAY2, category="hot", n=4, time_filter=None),
        ),
        "redditor": write_json(
            root / "scrapes" / DAY2.isoformat() / "redditors" / "spez-5-results.json",
            {"scrape_settings": {"redditor": "spez", "n_results": 5}, "data": {"information": {}, "interactions": {}}},
        ),
    }
    bad = {
        "not_json": "not valid JSON",
        "truncated": "truncated",
        "unknown": "unknown format",
        "bad_name": "not a subreddit name",
        "missing": "missing fields: scraped_at",
        "counts": "holds 6 items but the file records 7",
        "bad_date": "'2026-02-30' is not a real date",
        "urs_time": "is not a time",
    }
    broken = root / "broken"
    broken.mkdir()
    (broken / "not_json.json").write_text("Traceback (most recent call last): this is a log, not JSON\n")
    full = (root / "misc" / "alpha-export.json").read_bytes()
    (broken / "truncated.json").write_bytes(full[: len(full) // 2])
    write_json(broken / "unknown.json", {"posts": [], "exported": "2026-03-01"})
    write_ours(broken / "bad_name.json", our_document("alpha", DAY1) | {"subreddit": "no such/sub"})
    missing = our_document("alpha", DAY1)
    del missing["scraped_at"]
    write_json(broken / "missing.json", {"format": "reddit_assets/raw-scrape@1", **missing})
    counted = our_document("alpha", DAY1)
    write_json(
        broken / "counts.json",
        {
            "format": "reddit_assets/raw-scrape@1",
            **counted,
            "submission_count": 7,
            "comment_count": len(counted["comments"]),
        },
    )
    write_ours(broken / "bad_date.json", our_document("alpha", DAY1) | {"date": "2026-02-30"})
    bad_time = urs_document("beta", DAY2)
    bad_time["data"][2]["created_utc"] = "yesterday-ish"
    write_json(broken / "urs_time.json", bad_time)
    files.update({key: broken / f"{key}.json" for key in bad})
    return files, bad


@pytest.mark.integration
def test_cli_imports_mixed_folder_and_database_only_job_loads_without_reddit(monkeypatch, tmp_path, reddit_server):
    subs = [{"name": "alpha"}, {"name": "Beta"}, {"name": "gamma", "category": "new"}]
    defs = configure(monkeypatch, tmp_path, reddit_url=reddit_server.url, subreddits=subs)
    old = tmp_path / "old_system"
    files, bad = mixed_folder(old)
    home = tmp_path / "dagster_home"
    home.mkdir()

    with dg.DagsterInstance.local_temp(str(home)) as instance:
        cursor = dg.evaluate_automation_conditions(
            defs=defs, instance=instance
        ).cursor  # the sensor, ticking before the import

        proc = subprocess.run(
            [str(CLI), "import", str(old)],
            env={**os.environ, "DAGSTER_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = proc.stdout
        assert proc.returncode == 1, out + proc.stderr
        lines = out.splitlines()
        for key, reason in bad.items():
            [line] = [line for line in lines if str(files[key]) in line]
            assert line.startswith("BAD") and reason in line, line
        assert any(
            line.startswith("skipped") and str(files["redditor"]) in line and "redditor" in line for line in lines
        )
        assert "add these to subreddits.yaml: newsub" in out
        assert "8 file(s) not imported" in out

        data = tmp_path / "data" / "scrapes"
        raw = {
            "alpha": data / DAY1.isoformat() / "alpha.json",
            "Beta": data / DAY2.isoformat() / "Beta.json",
            "gamma": data / DAY3.isoformat() / "gamma.json",
            "newsub": data / DAY2.isoformat() / "newsub.json",
        }
        assert sorted(data.rglob("*.json")) == sorted(raw.values())  # nothing from the bad files
        for name, day in (("alpha", DAY1), ("Beta", DAY2), ("gamma", DAY3)):
            line = next(line for line in lines if f"-> {raw[name]}" in line)
            assert line.startswith("imported") and f"{day}|{name}" in line and "materialization recorded" in line
            records = _raw_materializations(instance, f"{day}|{name}")
            assert len(records) == 1
            meta = {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
            document = json.loads(raw[name].read_text())
            assert meta["sha256"] == sha256_file(raw[name]) and meta["bytes"] == raw[name].stat().st_size
            assert (meta["submissions"], meta["comments"]) == (document["submission_count"], document["comment_count"])
        assert meta_of(instance, DAY1, "alpha")["imported_from"] == str(files["ours"].resolve())
        assert not _raw_materializations(instance, f"{DAY2}|newsub")  # placed, not recorded
        assert "NOT recorded" in next(line for line in lines if f"-> {raw['newsub']}" in line)

        # The UI shows them materialized, and the automation sensor would load exactly these.
        assert {"2026-03-01|alpha", "2026-03-02|Beta", "2026-03-05|gamma"} <= instance.get_materialized_partitions(RAW)
        evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        assert {str(k) for k in evaluation.get_requested_partitions(SUBMISSIONS)} == {
            "2026-03-01|alpha",
            "2026-03-02|Beta",
            "2026-03-05|gamma",
        }

        # Loading the imported partitions never calls Reddit.
        db = f"sqlite:///{tmp_path / 'data' / 'reddit.db'}"
        for name, day in (("alpha", DAY1), ("Beta", DAY2)):
            assert run_job(defs, "database_only_job", day, name, instance).success
        assert reddit_server.stats()["requests"] == 0

        alpha = json.loads(files["ours"].read_text())
        assert [r[0] for r in _rows(db, "reddit_submissions", "alpha", DAY1)] == sorted(
            s["id"] for s in alpha["submissions"]
        )
        assert len(_rows(db, "reddit_comments", "alpha", DAY1)) == len(alpha["comments"]) > 0
        source = json.loads(files["urs"].read_text())["data"]
        loaded = dict(
            (r[0], r[1:])
            for r in _rows(db, "reddit_submissions", "Beta", DAY2, "id, author, created_utc, over_18, title")
        )
        assert set(loaded) == {s["id"] for s in source}
        first = source[0]
        author, created, over_18, title = loaded[first["id"]]
        assert (author, title, bool(over_18)) == (first["author"].removeprefix("u/"), first["title"], first["nsfw"])
        assert str(created).startswith(first["created_utc"])  # the URS text time, read as UTC
        assert materialization_metadata(instance, "reddit/submissions", f"{DAY2}|Beta")["rows"] == len(source)

        # Imported partitions get every check a scraped one gets: the raw file's from the import
        # (aimed at its materialization), the rows' from the loads.
        checks = [
            dg.AssetCheckKey(RAW, "raw_file_matches_counts"),
            dg.AssetCheckKey(SUBMISSIONS, "rows_match_raw_file"),
            dg.AssetCheckKey(dg.AssetKey(["reddit", "comments"]), "rows_match_raw_file"),
        ]
        loaded_keys = [f"{DAY1}|alpha", f"{DAY2}|Beta"]
        infos = instance.event_log_storage.get_asset_check_partition_info(checks, partition_keys=loaded_keys)
        assert {(i.check_key, i.partition_key) for i in infos} == {(c, k) for c in checks for k in loaded_keys}
        assert all(i.latest_execution_status.value == "SUCCEEDED" and i.is_current for i in infos), infos
        (gamma,) = instance.event_log_storage.get_asset_check_partition_info(
            checks[:1], partition_keys=[f"{DAY3}|gamma"]
        )
        assert gamma.latest_execution_status.value == "SUCCEEDED" and gamma.is_current


# -- the rules, in process ------------------------------------------------------------------


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _config(tmp_path, names, start_date="2026-01-01"):
    path = tmp_path / "subreddits.yaml"
    path.write_text(yaml.safe_dump({"start_date": start_date, "subreddits": [{"name": n} for n in names]}))
    return load_config(path)


def test_urs_conversion_keeps_every_field_and_reads_local_times(tmp_path, instance):
    tz = ZoneInfo("Asia/Kolkata")
    source = urs_document("CreditCardsIndia", DAY2, tz=tz)
    source["data"][0]["awards_note"] = "a field URS versions differ on"
    # URS before 3.2: MM-DD-YYYY date folders
    path = write_json(
        tmp_path / "old" / "03-02-2026" / "subreddits" / "CreditCardsIndia-top-6-results-past-day.json", source
    )
    report = import_directory(
        tmp_path / "old",
        config=_config(tmp_path, ["CreditCardsIndia"]),
        data_dir=tmp_path / "data",
        instance=instance,
        tz=tz,
    )
    assert [o.status for o in report.outcomes] == [IMPORTED] and report.exit_code == 0
    raw = json.loads((tmp_path / "data" / "scrapes" / "2026-03-02" / "CreditCardsIndia.json").read_text())

    expected = _data("CreditCardsIndia", DAY2).submissions
    assert raw["date"] == "2026-03-02" and raw["comments"] == [] and raw["submission_count"] == 6
    assert raw["settings"] == {
        "name": "CreditCardsIndia",
        "category": "top",
        "n_results": 6,
        "time_filter": "day",
        "query": None,
        "comments": "none",
    }
    assert raw["source"]["format"] == URS_FORMAT and raw["source"]["date_from"] == "date folder"
    assert raw["source"]["scrape_settings"] == source["scrape_settings"]
    assert raw["source"]["subreddit_rules"] == source["subreddit_rules"]
    assert raw["source"]["sha256"] == sha256_file(path)
    for got, given, reddit in zip(raw["submissions"], source["data"], expected):
        assert set(given) <= set(got)  # every field given is kept
        assert got["created_utc"] == float(int(reddit["created_utc"]))  # URS keeps whole seconds, in local time
        assert got["urs_original"]["created_utc"] == given["created_utc"]
        assert got["author"] == reddit["author"] and got["over_18"] == given["nsfw"]
    assert raw["submissions"][0]["awards_note"] == "a field URS versions differ on"
    assert (
        raw["scraped_at"]
        == dt.datetime.fromtimestamp(max(s["created_utc"] for s in raw["submissions"]), dt.UTC).isoformat()
    )


def test_rerun_dry_run_conflict_overwrite_and_configuring_later(tmp_path, instance):
    old = tmp_path / "old"
    data = tmp_path / "data"
    write_ours(old / "a.json", our_document("alpha", DAY1))
    write_json(
        old / "scrapes" / DAY2.isoformat() / "subreddits" / "newsub-hot-4-results.json",
        urs_document("newsub", DAY2, category="hot", n=4),
    )
    config = _config(tmp_path, ["alpha"])

    def run(cfg=config, **kw):
        return import_directory(old, config=cfg, data_dir=data, instance=instance, **kw)

    dry = import_directory(old, config=config, data_dir=data, dry_run=True)
    assert [o.status for o in dry.outcomes] == [IMPORTED, IMPORTED] and not data.exists()
    assert dry.outcomes[0].recorded == "would be recorded"

    first = run()
    assert [o.status for o in first.outcomes] == [IMPORTED, IMPORTED] and list(first.unconfigured) == ["newsub"]
    assert [o.recorded for o in first.outcomes] == ["recorded", None]
    raw = data / "scrapes" / DAY1.isoformat() / "alpha.json"
    sha = sha256_file(raw)

    again = run()
    assert [o.status for o in again.outcomes] == [PRESENT, PRESENT] and again.exit_code == 0
    assert again.outcomes[0].recorded == "already recorded"
    assert len(_raw_materializations(instance, f"{DAY1}|alpha")) == 1  # no second event

    # Configuring newsub, then importing again, records it (its partition exists now).
    configured = _config(tmp_path, ["alpha", "newsub"])
    later = run(configured)
    assert [o.recorded for o in later.outcomes] == ["already recorded", "recorded"] and not later.unconfigured
    assert meta_of(instance, DAY2, "newsub")["sha256"] == sha256_file(
        data / "scrapes" / DAY2.isoformat() / "newsub.json"
    )

    # Different content for a partition that has a raw file: refused unless --overwrite.
    changed = our_document("alpha", DAY1)
    changed["submissions"] = changed["submissions"][:3]
    write_ours(old / "a.json", changed)
    refused = run(configured)
    assert (
        refused.outcomes[0].status == CONFLICT
        and "--overwrite" in refused.outcomes[0].reason
        and refused.exit_code == 1
    )
    assert sha256_file(raw) == sha
    replaced = run(configured, overwrite=True)
    assert replaced.outcomes[0].status == REPLACED and replaced.exit_code == 0
    assert json.loads(raw.read_text())["submission_count"] == 3
    assert meta_of(instance, DAY1, "alpha")["sha256"] == sha256_file(raw) != sha

    # Two files of one import for the same partition with different content: neither wins silently.
    write_ours(old / "b.json", our_document("alpha", DAY1))
    clash = run(configured, overwrite=True)
    assert [o.status for o in clash.outcomes[:2]] == [PRESENT, CONFLICT]
    assert str(old / "a.json") in clash.outcomes[1].reason


def test_dates_before_start_and_in_the_future(tmp_path, instance):
    old = tmp_path / "old"
    write_ours(old / "early.json", our_document("alpha", dt.date(2025, 12, 30)))
    write_ours(old / "future.json", our_document("alpha", dt.date(2099, 1, 1)))
    report = import_directory(old, config=_config(tmp_path, ["alpha"]), data_dir=tmp_path / "data", instance=instance)
    early, future = report.outcomes
    assert early.status == IMPORTED and early.recorded is None and report.before_start == [old / "early.json"]
    assert future.status == BAD and "in the future" in future.reason
    assert not _raw_materializations(instance, "2025-12-30|alpha")


def test_cli_usage_errors_exit_2(tmp_path, monkeypatch, capsys):
    config = tmp_path / "subreddits.yaml"
    config.write_text(yaml.safe_dump({"subreddits": [{"name": "alpha"}]}))
    monkeypatch.setenv("REDDIT_ASSETS_CONFIG", str(config))
    monkeypatch.setenv("REDDIT_ASSETS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    (tmp_path / "old").mkdir()

    assert main(["import", str(tmp_path / "nowhere")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "old")]) == 2
    assert "DAGSTER_HOME is not set" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "old"), "--urs-timezone", "Mars/Olympus"]) == 2
    assert main(["import", str(tmp_path / "old"), "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["import"])
    assert exc.value.code == 2
    assert main(["import", str(tmp_path / "old"), "--dry-run"]) == 0
    assert "no *.json files found" in capsys.readouterr().out


def test_validate_config(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(
        yaml.safe_dump(
            {
                "subreddits": [
                    {"name": "CreditCardsIndia", "category": "t", "n_results": 25},
                    {"name": "python", "category": "search", "query": "dagster", "time_filter": "week"},
                ]
            }
        )
    )
    assert main(["validate-config", str(good)]) == 0
    out = capsys.readouterr().out
    assert "valid, 2 subreddit(s)" in out
    assert "CreditCardsIndia  category=top n_results=25 time_filter=day comments=all" in out
    assert "python            category=search query='dagster'" in out

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"subreddits": [{"name": "ok_sub"}, {"name": "python", "category": "sideways"}]}))
    assert main(["validate-config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "subreddits[1] ('python')" in err and "field 'category'" in err and "sideways" in err
