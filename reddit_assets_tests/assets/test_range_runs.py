"""Runs over a range of partitions (what a batched backfill launches) record what one-partition
runs record: a materialization with its own metadata per partition, a check result per
partition, and, when the run fails halfway, exactly the unfinished partitions as failed.

In-process runs on a real SQLite instance and SQLite tables; no server, no Reddit."""

import datetime as dt
import hashlib

import dagster as dg
import pytest
import sqlalchemy as sa

from reddit_assets.dagster_private import AssetCheckExecutionRecordStatus
from reddit_assets.files.normalize import normalize
from reddit_assets.files.paths import raw_file_path
from reddit_assets.files.raw_file import write_raw_file
from reddit_assets_demo.raw_documents import generated_raw_document
from reddit_assets_tests.fixtures.postgres import production_storage_overrides
from reddit_assets_tests.harness import configure

START = dt.date(2026, 10, 1)
DAYS = 6
NAME = "ranged"
SUBMISSIONS = dg.AssetKey(["reddit", "submissions"])
COMMENTS = dg.AssetKey(["reddit", "comments"])
KEYS = [f"{START + dt.timedelta(days=i)}|{NAME}" for i in range(DAYS)]
SUBSET_PLANNED = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"


def _write_raw_files(data_dir, plant_duplicate: str | None = None) -> dict[str, dict]:
    """One generated raw file per partition; for `plant_duplicate`, a comment reuses a submission's id."""
    documents = {}
    for key in KEYS:
        day = dt.date.fromisoformat(key.split("|")[0])
        document = generated_raw_document(NAME, day, n_submissions=4, comments_per_submission=(1, 5), popular_threads=0)
        if key == plant_duplicate:
            document["comments"][0]["id"] = document["submissions"][0]["id"]
        path = raw_file_path(data_dir, day, NAME)
        write_raw_file(path, document)
        documents[key] = {"path": path, "document": document}
    return documents


@pytest.fixture
def defs(monkeypatch, tmp_path):
    return configure(
        monkeypatch,
        tmp_path,
        reddit_url="http://127.0.0.1:9",  # never called: loads read raw files only
        subreddits=[{"name": NAME, "category": "new"}],
        start_date=START.isoformat(),
    )


@pytest.fixture(
    params=["stock-sqlite", "batching-sqlite", pytest.param("batching-postgres", marks=pytest.mark.postgres)]
)
def instance(request, monkeypatch):
    """A Dagster instance: Dagster's own SQLite storage, or ours (reddit_assets.instance), which
    writes a run's planned events, materializations and check results in batches."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    if request.param == "stock-sqlite":
        overrides = {}
    elif request.param == "batching-sqlite":
        overrides = {"instance_class": {"module": "reddit_assets.instance.sqlite", "class": "LocalInstance"}}
    else:
        overrides = production_storage_overrides(request.getfixturevalue("postgres_database"))
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance


def _run_range(defs, instance, first: str = KEYS[0], last: str = KEYS[-1]) -> dg.ExecuteInProcessResult:
    """database_only_job over first..last as one run, tagged as a backfill's batched run is."""
    return defs.resolve_job_def("database_only_job").execute_in_process(
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
    )


def _check_status(instance, asset_key: dg.AssetKey) -> dict[str, str]:
    """partition -> status of the latest rows_match_raw_file execution, as the UI reads it."""
    key = dg.AssetCheckKey(asset_key, "rows_match_raw_file")
    records = instance.event_log_storage.get_asset_check_execution_history(key, limit=1000)
    latest: dict[str, str] = {}
    for record in records:  # newest first
        latest.setdefault(record.partition, record.status.value)
    return latest


def _run_evaluations(instance, run_id: str) -> dict[tuple[dg.AssetKey, str], object]:
    """(asset, partition) -> the rows_match_raw_file evaluation this run recorded, as the UI reads it."""
    found = {}
    for asset_key in (SUBMISSIONS, COMMENTS):
        key = dg.AssetCheckKey(asset_key, "rows_match_raw_file")
        for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=1000):
            if record.run_id == run_id and record.event and record.event.dagster_event:
                found[(asset_key, record.partition)] = record.event.dagster_event.event_specific_data
    return found


def _failed_and_materialized(instance, asset_key: dg.AssetKey) -> tuple[set[str], set[str]]:
    """(partitions the UI shows failed, partitions materialized), by Dagster's own rules."""
    attempts = instance.event_log_storage.get_latest_asset_partition_materialization_attempts_without_materializations(
        asset_key
    )
    runs = {r.run_id: r.status for r in instance.get_runs()}
    failed = {p for p, (run_id, _) in attempts.items() if runs.get(run_id) == dg.DagsterRunStatus.FAILURE}
    return failed, set(instance.get_materialized_partitions(asset_key))


def _metadata(instance, asset_key: dg.AssetKey, key: str) -> dict:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=[key]), limit=1
    ).records
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


@pytest.mark.parametrize("subset_planned", [False, True], ids=["planned-per-partition", "planned-subset"])
def test_range_run_records_metadata_and_a_check_result_per_partition(
    defs, instance, tmp_path, monkeypatch, subset_planned
):
    monkeypatch.setenv(SUBSET_PLANNED, str(subset_planned).lower())
    documents = _write_raw_files(tmp_path / "data")
    result = _run_range(defs, instance)
    assert result.success
    for key, raw in documents.items():
        submissions, comments = normalize(raw["document"])
        sha = hashlib.sha256(raw["path"].read_bytes()).hexdigest()
        for asset_key, table in ((SUBMISSIONS, submissions), (COMMENTS, comments)):
            metadata = _metadata(instance, asset_key, key)
            assert metadata["rows"] == table.num_rows > 0
            assert metadata["raw_sha256"] == sha
            assert metadata["raw_bytes"] == raw["path"].stat().st_size
    for asset_key in (SUBMISSIONS, COMMENTS):
        assert _check_status(instance, asset_key) == {key: "SUCCEEDED" for key in KEYS}
        # The per-partition results are current: they target each partition's latest materialization.
        infos = instance.event_log_storage.get_asset_check_partition_info(
            [dg.AssetCheckKey(asset_key, "rows_match_raw_file")]
        )
        assert {i.partition_key for i in infos if i.is_current} == set(KEYS)
        assert {i.latest_execution_status for i in infos} == {AssetCheckExecutionRecordStatus.SUCCEEDED}


def test_a_comment_sharing_a_submissions_id_passes_the_row_check(defs, instance, tmp_path):
    shared = KEYS[2]  # Reddit numbers comments and submissions apart: one id may name both
    _write_raw_files(tmp_path / "data", plant_duplicate=shared)
    assert _run_range(defs, instance).success
    for asset_key in (SUBMISSIONS, COMMENTS):
        assert _check_status(instance, asset_key) == {key: "SUCCEEDED" for key in KEYS}


def test_row_check_fails_on_its_own_evidence_when_rows_go_missing(defs, instance, tmp_path):
    _write_raw_files(tmp_path / "data")
    assert _run_range(defs, instance).success
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    with engine.begin() as conn:  # rows lost after the load: only the check's own count can tell
        conn.execute(sa.text("DELETE FROM reddit_comments WHERE scrape_date = :d"), {"d": KEYS[4].split("|")[0]})
    engine.dispose()
    row_checks = dg.AssetSelection.checks(
        *(dg.AssetCheckKey(a, "rows_match_raw_file") for a in (SUBMISSIONS, COMMENTS))
    )
    job = dg.define_asset_job("row_checks", selection=row_checks).resolve(
        asset_graph=defs.get_repository_def().asset_graph
    )
    result = job.execute_in_process(
        instance=instance,
        resources=defs.resources,
        tags={"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]},
        raise_on_error=False,
    )
    evaluations = _run_evaluations(instance, result.run_id)
    outcome = {key: e.passed for key, e in evaluations.items()}
    assert outcome == {(a, key): a == SUBMISSIONS or key != KEYS[4] for a in (SUBMISSIONS, COMMENTS) for key in KEYS}
    # As the UI reads it: Failed for exactly that partition's comments, Passed for the rest.
    assert _check_status(instance, COMMENTS) == {key: "FAILED" if key == KEYS[4] else "SUCCEEDED" for key in KEYS}
    assert _check_status(instance, SUBMISSIONS) == {key: "SUCCEEDED" for key in KEYS}
    [failed] = [e for e in evaluations.values() if not e.passed]
    assert failed.description.endswith(
        f"0 rows in the database, {failed.metadata['rows_in_raw_file'].value} in the raw file"
    )


@pytest.mark.parametrize("subset_planned", [False, True], ids=["planned-per-partition", "planned-subset"])
def test_a_run_failing_halfway_marks_exactly_the_unfinished_partitions_failed(
    defs, instance, tmp_path, monkeypatch, subset_planned
):
    monkeypatch.setenv(SUBSET_PLANNED, str(subset_planned).lower())
    documents = _write_raw_files(tmp_path / "data")
    broken = KEYS[3]
    documents[broken]["path"].write_text('{"truncated": ')
    result = _run_range(defs, instance)
    assert not result.success
    for asset_key in (SUBMISSIONS, COMMENTS):
        failed, materialized = _failed_and_materialized(instance, asset_key)
        assert materialized == set(KEYS[:3])
        assert failed == set(KEYS[3:])
        assert _metadata(instance, asset_key, KEYS[1])["raw_bytes"] == documents[KEYS[1]]["path"].stat().st_size
    # The finished partitions' rows stay (each was its own transaction); the rest were never written.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    with engine.connect() as conn:
        dates = {str(d) for (d,) in conn.execute(sa.text("SELECT DISTINCT scrape_date FROM reddit_submissions"))}
    engine.dispose()
    assert dates == {key.split("|")[0] for key in KEYS[:3]}

    # Mended and run again: every partition materialized, none failed, the same rows (idempotent).
    write_raw_file(documents[broken]["path"], documents[broken]["document"])
    assert _run_range(defs, instance).success
    assert _run_range(defs, instance).success
    for asset_key in (SUBMISSIONS, COMMENTS):
        failed, materialized = _failed_and_materialized(instance, asset_key)
        assert (failed, materialized) == (set(), set(KEYS))
        assert _check_status(instance, asset_key) == {key: "SUCCEEDED" for key in KEYS}
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data' / 'reddit.db'}")
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*), count(DISTINCT id) FROM reddit_comments")).one()
    engine.dispose()
    expected = sum(normalize(d["document"])[1].num_rows for d in documents.values())
    assert tuple(total) == (expected, expected)


def test_an_archive_run_failing_halfway_keeps_the_archives_it_finished(defs, instance, tmp_path):
    R2_ARCHIVE = dg.AssetKey(["reddit", "r2_archive"])
    documents = _write_raw_files(tmp_path / "data")
    broken = KEYS[2]
    documents[broken]["path"].write_text('{"truncated": ')
    result = defs.resolve_job_def("upload_only_job").execute_in_process(
        instance=instance,
        tags={"dagster/asset_partition_range_start": KEYS[0], "dagster/asset_partition_range_end": KEYS[-1]},
        raise_on_error=False,
    )
    assert not result.success
    failed, materialized = _failed_and_materialized(instance, R2_ARCHIVE)
    # Four archives are in flight at once: the three started with the broken one always
    # finish; the two after it may or may not have started when the failure was seen.
    assert set(KEYS[:2]) | {KEYS[3]} <= materialized and broken in failed
    assert materialized | failed == set(KEYS) and not materialized & failed
    store = tmp_path / "data" / "r2" / "daily_scrapes" / NAME
    for key in materialized:
        day = key.split("|")[0]
        recorded = _metadata(instance, R2_ARCHIVE, key)
        assert recorded["uploaded"] is True and recorded["object_key"].endswith(f"{NAME}_{day}.zip")
        assert hashlib.sha256((store / day / f"{NAME}_{day}.zip").read_bytes()).hexdigest() == recorded["sha256"]
    assert sorted(p.name for p in store.iterdir()) == sorted(key.split("|")[0] for key in materialized)


def test_two_runs_archiving_one_partition_at_once_never_take_each_others_zip(tmp_path):
    """Run A built its zip; run B builds, uploads and deletes its own before A uploads: A's is still there."""
    from reddit_assets.assets.archive import run_zip_path, store_archive
    from reddit_assets.storage.objects import LocalFolderStore

    store = LocalFolderStore(tmp_path / "store")
    final = tmp_path / "archives" / "x.zip"
    final.parent.mkdir()
    built = {run: run_zip_path(final, run) for run in ("run-a", "run-b")}
    assert built["run-a"] != built["run-b"] and built["run-a"].parent == final.parent
    for path in built.values():
        path.write_bytes(b"the same deterministic archive")
    sha = hashlib.sha256(b"the same deterministic archive").hexdigest()
    assert store_archive(store, "k/x.zip", built["run-b"], final, sha, upload=True)["uploaded"] is True
    assert store_archive(store, "k/x.zip", built["run-a"], final, sha, upload=True)["uploaded"] is True
    assert not built["run-a"].exists() and not built["run-b"].exists() and not final.exists()
    assert store.head("k/x.zip").sha256 == sha

    # Kept locally (uploads off): the run's zip moves to the path people and later runs look at.
    built["run-c"] = run_zip_path(final, "run-c")
    built["run-c"].write_bytes(b"kept")
    assert store_archive(store, "k/x.zip", built["run-c"], final, sha, upload=False)["uploaded"] is False
    assert final.read_bytes() == b"kept" and not built["run-c"].exists()


def test_a_verified_upload_removes_the_zip_an_earlier_failed_upload_kept_unless_it_is_the_object(tmp_path):
    from reddit_assets.assets.archive import run_zip_path, store_archive
    from reddit_assets.storage.objects import LocalFolderStore

    sha = hashlib.sha256(b"zip").hexdigest()
    final = tmp_path / "archives" / "k" / "x.zip"
    final.parent.mkdir(parents=True)
    final.write_bytes(b"zip")  # kept by a run whose upload failed
    run_zip_path(final, "later").write_bytes(b"zip")
    store_archive(LocalFolderStore(tmp_path / "store"), "k/x.zip", run_zip_path(final, "later"), final, sha, True)
    assert not final.exists()

    # The store's folder is the archives folder: the kept zip is the stored object and stays.
    store = LocalFolderStore(tmp_path / "archives")
    run_zip_path(final, "again").write_bytes(b"zip")
    store_archive(store, "k/x.zip", run_zip_path(final, "again"), final, sha, True)
    assert final.read_bytes() == b"zip" and store.head("k/x.zip").sha256 == sha
