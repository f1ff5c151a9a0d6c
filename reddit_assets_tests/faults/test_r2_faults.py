"""R2 faults: the archive store down, answering 5xx, slow, or refusing the credentials.

The S3 side is moto over HTTP, behind a proxy that injects the faults (and, like R2,
refuses an upload whose bytes do not match the SHA-256 it carries), or a moto server
that enforces SigV4 credentials. Expected: reddit/r2_archive retries (not for credentials,
which retrying cannot fix) and then fails with a message naming the store and the key; the local zip is kept; the database branch of the
same run succeeds; a later run, with the store back, uploads and verifies.
"""

import hashlib

import pytest

from reddit_assets_tests.faults.servers import AuthMotoServer, S3FaultProxy
from reddit_assets_tests.faults.support import (
    archive_store,
    failure_messages,
    key,
    local_zip,
    object_key,
    retry_count,
    run,
    sqlite_url,
    table_counts,
    with_resources,
)
from reddit_assets_tests.harness import configure, materialization_metadata

pytestmark = pytest.mark.integration

ARCHIVE = "reddit__r2_archive"
# Runs meant to fail use a client with 2 tries per call instead of the default 5: the
# same retry path, less waiting. Recovery runs use the store exactly as configured.


def _configure(
    monkeypatch, tmp_path, reddit_server, endpoint, bucket, name, key_id="test-key", secret="test-secret-key"
):
    s3 = {"endpoint": endpoint, "bucket": bucket, "key": key_id, "secret": secret}
    return configure(
        monkeypatch, tmp_path, reddit_url=reddit_server.url, s3=s3, subreddits=[{"name": name, "n_results": 5}]
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _assert_archive_failed_alone(result, tmp_path, name, retries=2):
    """Only the archive step failed; the tables were loaded and the zip is kept for a later upload."""
    assert not result.success
    assert {e.step_key for e in result.get_step_failure_events()} == {ARCHIVE}
    assert retry_count(result, ARCHIVE) == retries
    assert table_counts(sqlite_url(tmp_path), name)[0] == 5
    assert local_zip(tmp_path, name).exists()


def _assert_uploaded_and_verified(instance, s3_client, bucket, tmp_path, name):
    meta = materialization_metadata(instance, "reddit/r2_archive", key(name))
    assert meta["uploaded"] is True and meta["object_key"] == object_key(name)
    stored = s3_client.get_object(Bucket=bucket, Key=object_key(name))["Body"].read()
    assert _sha256(stored) == meta["sha256"] and len(stored) == meta["bytes"]
    assert not local_zip(tmp_path, name).exists()  # deleted only after the verified upload


def test_endpoint_down_then_back(monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket, s3_client):
    proxy = S3FaultProxy(s3_endpoint)  # not started: its port refuses connections
    defs = _configure(monkeypatch, tmp_path, reddit_server, proxy.url, s3_bucket, "offline")
    quick = with_resources(defs, archive_store=archive_store(max_attempts=2))
    result = run(quick, "daily_scrape_job", key("offline"), instance)
    _assert_archive_failed_alone(result, tmp_path, "offline")
    message = failure_messages(result, ARCHIVE)[-1]
    assert "cannot reach" in message and f"s3://{s3_bucket}" in message and object_key("offline") in message

    with proxy:  # the endpoint is back on the same address
        requests_before = reddit_server.stats()["requests"]
        assert run(defs, "upload_only_job", key("offline"), instance).success
        assert reddit_server.stats()["requests"] == requests_before
    _assert_uploaded_and_verified(instance, s3_client, s3_bucket, tmp_path, "offline")


def test_slow_store_and_transient_5xx_are_retried_by_the_client(
    monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket, s3_client
):
    with S3FaultProxy(s3_endpoint) as proxy:
        defs = _configure(monkeypatch, tmp_path, reddit_server, proxy.url, s3_bucket, "blip")
        proxy.slow(0.4)  # every answer late, well within the read timeout
        proxy.fail(503, times=2, code="ServiceUnavailable")
        result = run(defs, "daily_scrape_job", key("blip"), instance)
        assert result.success
        assert proxy.injected == 2 and retry_count(result, ARCHIVE) == 0
    _assert_uploaded_and_verified(instance, s3_client, s3_bucket, tmp_path, "blip")


def test_persistent_5xx_fails_clearly_keeps_zip_then_uploads(
    monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket, s3_client
):
    with S3FaultProxy(s3_endpoint) as proxy:
        defs = _configure(monkeypatch, tmp_path, reddit_server, proxy.url, s3_bucket, "outage")
        quick = with_resources(defs, archive_store=archive_store(max_attempts=2))
        proxy.fail(500)
        result = run(quick, "daily_scrape_job", key("outage"), instance)
        _assert_archive_failed_alone(result, tmp_path, "outage")
        message = failure_messages(result, ARCHIVE)[-1]
        assert "InternalError" in message and object_key("outage") in message
        assert proxy.injected == 6  # 3 attempts x 2 tries of the first request

        proxy.heal()
        assert run(defs, "upload_only_job", key("outage"), instance).success
    _assert_uploaded_and_verified(instance, s3_client, s3_bucket, tmp_path, "outage")


def test_bytes_changed_on_the_way_are_refused_zip_kept_then_uploads(
    monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket, s3_client
):
    """Every upload arrives with a byte changed: the store (checking the SHA-256 the upload
    carries, as R2 does) refuses each try with BadDigest; the zip is kept; healed, it uploads."""
    with S3FaultProxy(s3_endpoint, check_checksums=True) as proxy:
        defs = _configure(monkeypatch, tmp_path, reddit_server, proxy.url, s3_bucket, "garbled")
        proxy.corrupt()
        result = run(defs, "daily_scrape_job", key("garbled"), instance)
        _assert_archive_failed_alone(result, tmp_path, "garbled")
        message = failure_messages(result, ARCHIVE)[-1]
        assert "BadDigest" in message and object_key("garbled") in message and f"s3://{s3_bucket}" in message
        assert proxy.injected == 3  # one PUT per attempt: a BadDigest is not retried by the client
        assert "Contents" not in s3_client.list_objects_v2(Bucket=s3_bucket)

        proxy.heal()
        assert run(defs, "upload_only_job", key("garbled"), instance).success
    _assert_uploaded_and_verified(instance, s3_client, s3_bucket, tmp_path, "garbled")


def test_store_slower_than_read_timeout_fails_clearly_then_uploads(
    monkeypatch, tmp_path, reddit_server, instance, s3_endpoint, s3_bucket, s3_client
):
    with S3FaultProxy(s3_endpoint) as proxy:
        defs = _configure(monkeypatch, tmp_path, reddit_server, proxy.url, s3_bucket, "frozen")
        quick = with_resources(defs, archive_store=archive_store(read_timeout=0.5, max_attempts=2))
        proxy.slow(2)
        result = run(quick, "daily_scrape_job", key("frozen"), instance)
        _assert_archive_failed_alone(result, tmp_path, "frozen")
        message = failure_messages(result, ARCHIVE)[-1]
        assert "timeout" in message.lower() and object_key("frozen") in message

        # The uploads the client gave up on still reach the store when their delay ends;
        # let them land first, or one lands after the next upload's verification.
        proxy.wait_idle()
        proxy.heal()
        assert run(defs, "upload_only_job", key("frozen"), instance).success
    _assert_uploaded_and_verified(instance, s3_client, s3_bucket, tmp_path, "frozen")


def test_wrong_credentials_fail_clearly_then_right_ones_upload(monkeypatch, tmp_path, reddit_server, instance):
    with AuthMotoServer() as moto:
        defs = _configure(
            monkeypatch,
            tmp_path,
            reddit_server,
            moto.url,
            moto.bucket,
            "locked",
            key_id=moto.access_key,
            secret="not-the-secret",
        )
        defs = with_resources(defs, archive_store=archive_store(max_attempts=2))
        result = run(defs, "daily_scrape_job", key("locked"), instance)
        _assert_archive_failed_alone(result, tmp_path, "locked", retries=0)  # retrying cannot fix credentials
        message = failure_messages(result, ARCHIVE)[-1]
        assert "SignatureDoesNotMatch" in message and object_key("locked") in message and "not retried" in message
        assert "not-the-secret" not in message

        right = _configure(
            monkeypatch,
            tmp_path,
            reddit_server,
            moto.url,
            moto.bucket,
            "locked",
            key_id=moto.access_key,
            secret=moto.secret_key,
        )
        assert run(right, "upload_only_job", key("locked"), instance).success
        _assert_uploaded_and_verified(instance, moto.client, moto.bucket, tmp_path, "locked")
