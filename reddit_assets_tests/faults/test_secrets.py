"""Known secret values never reach what Dagster or the pipeline stores or prints.

The pipeline runs with a Reddit app secret and a script-app password the demo server
checks, an R2 secret key, and a DATABASE_URL whose password belongs to a real PostgreSQL
role; once with every part up, once with the archive store and the database down. Then
every event, the stored runs and their config, all metadata, the compute logs, everything
under DAGSTER_HOME and the data directory (archives unzipped), the objects in the bucket
and what the runs printed are searched for each secret, plain and base64-encoded.
"""

import base64
import io
import secrets
import zipfile

import dagster as dg
import psycopg
import pytest
from dagster import serialize_value
from psycopg import sql

from reddit_assets.definitions import build_definitions
from reddit_assets_tests.faults.servers import TcpProxy
from reddit_assets_tests.faults.support import archive_store, key, run, with_resources
from reddit_assets_tests.fixtures.postgres import PG_HOST, PG_PORT, PG_USER
from reddit_assets_tests.harness import configure

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

NAME = "hushhush"


@pytest.fixture
def secret_values() -> dict[str, str]:
    return {
        var: f"{var.lower().replace('_', '')}{secrets.token_hex(12)}"
        for var in ("REDDIT_CLIENT_SECRET", "REDDIT_PASSWORD", "R2_SECRET_ACCESS_KEY", "DB_PASSWORD")
    }


@pytest.fixture
def db_role(postgres_database, secret_values):
    """A login role with a password, owning the test database (trust auth ignores the password,
    but the URL still carries it everywhere the URL goes)."""
    role = f"archiver_{secrets.token_hex(4)}"
    admin = dict(host=PG_HOST, port=PG_PORT, user=PG_USER, autocommit=True)
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(secret_values["DB_PASSWORD"])
            )
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(postgres_database), sql.Identifier(role))
        )
    with psycopg.connect(dbname=postgres_database, **admin) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(role)))
    yield role
    with psycopg.connect(dbname=postgres_database, **admin) as conn:
        conn.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(sql.Identifier(role), sql.Identifier(PG_USER)))
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(postgres_database), sql.Identifier(PG_USER))
        )
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _forms(secret_values: dict[str, str]) -> dict[str, bytes]:
    forms = {}
    for name, value in secret_values.items():
        forms[name] = value.encode()
        forms[f"{name} (base64)"] = base64.b64encode(value.encode()).rstrip(b"=")
    basic = base64.b64encode(f"test-client:{secret_values['REDDIT_CLIENT_SECRET']}".encode())
    forms["Reddit Basic auth header"] = basic.rstrip(b"=")
    return forms


def _leaks(blob: bytes, forms: dict[str, bytes]) -> list[str]:
    return [name for name, needle in forms.items() if needle in blob]


def _zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _setup(monkeypatch, tmp_path, reddit_server, secret_values, db_url, s3):
    configure(
        monkeypatch,
        tmp_path,
        reddit_url=reddit_server.url,
        subreddits=[{"name": NAME, "n_results": 8}],
        database_url=db_url,
        s3=s3,
        reddit_secret=secret_values["REDDIT_CLIENT_SECRET"],
    )
    monkeypatch.setenv("REDDIT_USERNAME", "archiver_bot")
    monkeypatch.setenv("REDDIT_PASSWORD", secret_values["REDDIT_PASSWORD"])
    return build_definitions()


def test_no_secret_in_events_runs_metadata_logs_files_or_archives(
    monkeypatch,
    tmp_path,
    capfd,
    reddit_server,
    postgres_database,
    db_role,
    secret_values,
    s3_endpoint,
    s3_bucket,
    s3_client,
):
    forms = _forms(secret_values)
    assert _leaks(f"x{secret_values['R2_SECRET_ACCESS_KEY']}y".encode(), forms) == [
        "R2_SECRET_ACCESS_KEY"
    ]  # the detector works

    # The demo server refuses any other app secret or password.
    reddit_server.credentials = {"test-client": secret_values["REDDIT_CLIENT_SECRET"]}
    reddit_server.users = {"archiver_bot": secret_values["REDDIT_PASSWORD"]}
    db_url = f"postgresql+psycopg://{db_role}:{secret_values['DB_PASSWORD']}@{PG_HOST}:{PG_PORT}/{postgres_database}"
    s3 = {
        "endpoint": s3_endpoint,
        "bucket": s3_bucket,
        "key": "archive-key-id",
        "secret": secret_values["R2_SECRET_ACCESS_KEY"],
    }
    home = tmp_path / "dagster_home"
    home.mkdir()

    with dg.DagsterInstance.local_temp(str(home)) as instance:
        defs = _setup(monkeypatch, tmp_path, reddit_server, secret_values, db_url, s3)
        good = run(defs, "daily_scrape_job", key(NAME), instance)
        assert good.success
        assert "archiver_bot" in reddit_server.tokens.usernames()  # logged in with the password

        # The same secrets with the archive store and the database down.
        dead_db = TcpProxy(PG_HOST, PG_PORT)  # never started: connections are refused
        dead_url = f"postgresql+psycopg://{db_role}:{secret_values['DB_PASSWORD']}@127.0.0.1:{dead_db.port}/{postgres_database}"
        dead_s3 = {**s3, "endpoint": f"http://127.0.0.1:{dead_db.port}"}
        defs = _setup(monkeypatch, tmp_path, reddit_server, secret_values, dead_url, dead_s3)
        defs = with_resources(defs, archive_store=archive_store(max_attempts=2))
        bad = run(defs, "daily_scrape_job", key(NAME), instance)
        assert not bad.success
        assert {e.step_key for e in bad.get_step_failure_events()} == {"database_tables", "reddit__r2_archive"}

        found: dict[str, list[str]] = {}

        def check(where: str, blob: bytes) -> None:
            if hits := _leaks(blob, forms):
                found[where] = hits

        for result in (good, bad):
            run_id = result.run_id
            stored = instance.get_run_by_id(run_id)
            check(f"run {run_id} record", serialize_value(stored).encode())
            check(f"run {run_id} config", repr(stored.run_config).encode())
            entries = instance.all_logs(run_id)
            assert entries
            for entry in entries:
                check(f"event {entry.dagster_event_type} of {run_id}", serialize_value(entry).encode())
        failures = [
            e for e in instance.all_logs(bad.run_id) if e.dagster_event_type == dg.DagsterEventType.STEP_FAILURE
        ]
        assert len(failures) == 2 and all(e.dagster_event.step_failure_data.error.message for e in failures)

        for asset in (
            ["reddit", "raw_scrape"],
            ["reddit", "submissions"],
            ["reddit", "comments"],
            ["reddit", "r2_archive"],
        ):
            records = instance.fetch_materializations(dg.AssetKey(asset), limit=100).records
            assert records, asset
            for record in records:
                check(f"metadata of {'/'.join(asset)}", repr(record.asset_materialization.metadata).encode())

    compute_logs = [p for p in home.rglob("*") if p.is_file() and "compute_logs" in p.parts]
    assert any(p.stat().st_size > 0 for p in compute_logs), "no compute log was captured"
    zips = 0
    for path in [p for p in tmp_path.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        check(str(path.relative_to(tmp_path)), data)
        if path.suffix == ".zip":
            zips += 1
            for member, content in _zip_members(data).items():
                check(f"{path.name}:{member}", content)
    assert zips >= 1  # the failed run's local zip, kept for a later upload
    objects = s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
    assert len(objects) == 1
    for obj in objects:
        for member, content in _zip_members(
            s3_client.get_object(Bucket=s3_bucket, Key=obj["Key"])["Body"].read()
        ).items():
            check(f"s3 {obj['Key']}:{member}", content)
    out, err = capfd.readouterr()
    assert "STEP_FAILURE" in err  # the runs' console log was captured
    check("stdout/stderr of the runs", (out + err).encode())

    assert found == {}
