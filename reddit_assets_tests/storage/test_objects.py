"""Object stores: verified uploads to moto's S3 server over HTTP (as R2) and to a local folder.

moto records the SHA-256 an upload carries but never checks it against the bytes; R2
answers BadDigest. So "as R2" is moto behind a proxy that checks it (`check_checksums`),
and plain moto is used with `verify_by_read_back`, the setting for such stores.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

import pytest
from dagster import EnvVar, MaterializeResult, asset, materialize

from reddit_assets.files.archive_zip import verify_archive
from reddit_assets.files.atomic import sha256_file
from reddit_assets.files.paths import archive_object_key
from reddit_assets.storage.archive_store_resource import LocalArchiveStore, R2ArchiveStore, r2_endpoint
from reddit_assets.storage.objects import (
    DownloadVerificationError,
    LocalFolderStore,
    ObjectStoreError,
    ObjectStoreRefused,
    ObjectStoreUnavailable,
    S3ObjectStore,
    UploadVerificationError,
    check_key,
)
from reddit_assets_tests.faults.servers import S3FaultProxy
from reddit_assets_tests.files.test_archive_zip import DATE, SUBREDDIT, make_archive

KEY = archive_object_key(DATE, SUBREDDIT)
PREFIX = f"daily_scrapes/{SUBREDDIT}/"


def stored_keys(store, prefix: str) -> list[str]:
    """The keys the store's backing bucket or folder holds under `prefix`, read without the store."""
    if store.kind == "s3":
        listing = store.client.list_objects_v2(Bucket=store.bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))
    found = (path.relative_to(store.root).as_posix() for path in store.root.rglob("*") if path.is_file())
    return sorted(key for key in found if key.startswith(prefix) and not key.startswith("."))


def r2_resource(endpoint, credentials, bucket, **kwargs) -> R2ArchiveStore:
    return R2ArchiveStore(endpoint_url=endpoint, bucket=bucket, region_name="auto", **credentials, **kwargs)


@pytest.fixture
def r2_endpoint_url(s3_endpoint):
    """moto behind a proxy that refuses a body not matching its x-amz-checksum-sha256, as R2 does."""
    with S3FaultProxy(s3_endpoint, check_checksums=True) as proxy:
        yield proxy.url


@pytest.fixture(params=["s3", "s3-read-back", "local"])
def store(request, tmp_path):
    if request.param.startswith("s3"):
        credentials = request.getfixturevalue("s3_credentials")
        bucket = request.getfixturevalue("s3_bucket")
        if request.param == "s3":
            return r2_resource(request.getfixturevalue("r2_endpoint_url"), credentials, bucket).store()
        endpoint = request.getfixturevalue("s3_endpoint")
        return r2_resource(endpoint, credentials, bucket, verify_by_read_back=True).store()
    return LocalArchiveStore(root=str(tmp_path / "store")).store()


def _b64_sha256(sha256: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256)).decode()


@pytest.fixture
def archive(tmp_path):
    _, _, info = make_archive(tmp_path / "data")
    return info


def _file(path: Path, size: int, seed: bytes = b"") -> tuple[Path, str]:
    """A file of `size` pseudo-random (incompressible, cheap) bytes and its SHA-256."""
    block = hashlib.sha256(seed).digest() * 32768  # 1 MiB
    with open(path, "wb") as out:
        left = size
        n = 0
        while left:
            chunk = block[: min(left, len(block))]
            out.write(chunk[:-8] + n.to_bytes(8, "big") if len(chunk) >= 8 else chunk)
            left -= len(chunk)
            n += 1
    return path, sha256_file(path)


def test_put_verified_head_download(store, archive, tmp_path):
    result = store.put_verified(KEY, archive.path, archive.sha256)
    assert (result.key, result.size, result.sha256) == (KEY, archive.size, archive.sha256)
    assert not result.stored_at_source

    info = store.head(KEY)
    assert (info.size, info.sha256) == (archive.size, archive.sha256)
    assert store.exists(KEY) and not store.exists(KEY + ".nope") and store.head("daily_scrapes/none.zip") is None
    assert stored_keys(store, PREFIX) == [KEY]

    dest = store.download(KEY, tmp_path / "back" / "a.zip")
    assert sha256_file(dest) == archive.sha256 and verify_archive(dest) == []
    assert os.listdir(dest.parent) == ["a.zip"]

    if store.kind == "s3":
        assert store.url_for(KEY) == f"s3://{store.bucket}/{KEY}" and store.describe().startswith(
            f"s3://{store.bucket} at http://127.0.0.1:"
        )
    else:
        assert store.url_for(KEY) == (store.root / KEY).as_uri() and store.describe() == f"local folder {store.root}"


def test_reupload_overwrites_the_one_object(store, tmp_path):
    first, first_sha = _file(tmp_path / "one.zip", 1000, b"1")
    second, second_sha = _file(tmp_path / "two.zip", 2000, b"2")
    store.put_verified(KEY, first, first_sha)
    store.put_verified(KEY, second, second_sha)
    store.put_verified(KEY, second, second_sha)
    assert stored_keys(store, PREFIX) == [KEY]
    assert store.head(KEY).sha256 == second_sha and store.head(KEY).size == 2000
    if store.kind == "local":
        assert sorted(p.name for p in (store.root / KEY).parent.iterdir()) == [Path(KEY).name]


def test_wrong_sha_raises_and_nothing_claims_it(store, tmp_path):
    path, sha = _file(tmp_path / "a.zip", 5000, b"a")
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(UploadVerificationError, match=rf"{KEY}.*expected {wrong}"):
        store.put_verified(KEY, path, wrong)
    assert store.head(KEY) is None and stored_keys(store, PREFIX) == []

    # A good object stays readable and is never labelled with the wrong SHA-256.
    store.put_verified(KEY, path, sha)
    with pytest.raises(UploadVerificationError):
        store.put_verified(KEY, path, wrong)
    info = store.head(KEY)
    assert info is None or info.sha256 == sha
    with pytest.raises(ValueError, match="SHA-256"):
        store.put_verified(KEY, path, "not-a-sha")


def test_tampered_object_is_refused_on_download(store, tmp_path, request):
    path, sha = _file(tmp_path / "a.zip", 3000, b"t")
    store.put_verified(KEY, path, sha)
    if store.kind == "s3":
        client = request.getfixturevalue("s3_client")
        client.put_object(Bucket=store.bucket, Key=KEY, Body=b"evil", Metadata={"sha256": sha})
    else:
        target = store.root / KEY
        stat = target.stat()
        target.write_bytes(b"e" * stat.st_size)
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the sidecar still looks current
    dest = tmp_path / "downloads" / "out.zip"
    with pytest.raises(DownloadVerificationError, match=KEY):
        store.download(KEY, dest)
    assert os.listdir(dest.parent) == [], "neither the file nor a temporary file is left"


def _recorded_requests(store) -> list[tuple[str, str, dict]]:
    """(method, url, headers) of every request the store's client sends from now on."""
    sent: list[tuple[str, str, dict]] = []

    def record(request, **_):
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        sent.append((request.method, request.url, headers))

    store.client.meta.events.register("before-send.s3", record)
    return sent


def _assert_r2_accepts_headers(sent) -> None:
    # R2 rejects boto3's default CRC32 checksums (a header, or a trailer in an aws-chunked
    # body), and takes no ACLs: the only checksum sent is the file's SHA-256, in a header.
    for _, _, headers in sent:
        checksums = {h for h in headers if h.startswith(("x-amz-checksum-", "x-amz-sdk-checksum"))}
        assert checksums <= {"x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm", "x-amz-checksum-mode"}, headers
        assert headers.get("x-amz-sdk-checksum-algorithm", "SHA256") == "SHA256", headers
        assert "x-amz-trailer" not in headers and "aws-chunked" not in headers.get("content-encoding", ""), headers
        assert "x-amz-acl" not in headers


@pytest.mark.integration
def test_an_upload_carries_its_sha256_and_is_verified_by_one_head(
    r2_endpoint_url, s3_credentials, s3_bucket, s3_client, tmp_path
):
    """A single PutObject carrying the file's SHA-256 (the store checks the bytes against
    it), then one HEAD for the stored size and SHA-256: nothing is read back."""
    store = r2_resource(r2_endpoint_url, s3_credentials, s3_bucket).store()
    sent = _recorded_requests(store)
    path, sha = _file(tmp_path / "small.zip", 30_000, b"s")
    assert store.put_verified(KEY, path, sha).size == 30_000
    assert [method for method, _, _ in sent] == ["PUT", "HEAD"]
    put, head_request = sent[0][2], sent[1][2]
    assert put["x-amz-checksum-sha256"] == _b64_sha256(sha) and head_request["x-amz-checksum-mode"] == "ENABLED"
    assert not any("uploads" in url or "partNumber=" in url for _, url, _ in sent)
    _assert_r2_accepts_headers(sent)
    head = s3_client.head_object(Bucket=s3_bucket, Key=KEY, ChecksumMode="ENABLED")
    assert head["ContentLength"] == 30_000 and head["Metadata"] == {"sha256": sha}
    assert head["ChecksumSHA256"] == _b64_sha256(sha)  # moto records what the upload carried
    assert head["ContentType"] == "application/zip"


@pytest.mark.integration
def test_read_back_setting_reads_the_object_back(s3_endpoint, s3_credentials, s3_bucket, tmp_path):
    store = r2_resource(s3_endpoint, s3_credentials, s3_bucket, verify_by_read_back=True).store()
    sent = _recorded_requests(store)
    path, sha = _file(tmp_path / "small.zip", 30_000, b"r")
    assert store.put_verified(KEY, path, sha).sha256 == sha
    assert [method for method, _, _ in sent] == ["PUT", "GET"]  # one GET: headers and the body hashed
    _assert_r2_accepts_headers(sent)


@pytest.mark.integration
@pytest.mark.parametrize("read_back", [False, True], ids=["store-checks-sha256", "read-back"])
def test_bytes_changed_on_the_way_are_refused(read_back, s3_endpoint, s3_credentials, s3_bucket, s3_client, tmp_path):
    """A byte flipped between us and the store: R2 refuses the PUT (BadDigest); a store
    that does not check stores it, and the read-back finds it and removes the object."""
    path, sha = _file(tmp_path / "a.zip", 50_000, b"c")
    with S3FaultProxy(s3_endpoint, check_checksums=not read_back) as proxy:
        store = r2_resource(proxy.url, s3_credentials, s3_bucket, verify_by_read_back=read_back).store()
        proxy.corrupt(times=1)
        expected = "stored bytes have SHA-256" if read_back else "refused the bytes it received.*BadDigest"
        with pytest.raises(UploadVerificationError, match=rf"{KEY} did not verify: .*{expected}"):
            store.put_verified(KEY, path, sha)
        assert proxy.injected == 1 and stored_keys(store, PREFIX) == []
        assert path.exists() and sha256_file(path) == sha
        assert store.put_verified(KEY, path, sha).sha256 == sha  # the next try goes through
    assert s3_client.head_object(Bucket=s3_bucket, Key=KEY)["Metadata"] == {"sha256": sha}


@pytest.mark.integration
def test_an_object_replaced_before_the_head_does_not_verify(
    r2_endpoint_url, s3_credentials, s3_bucket, s3_client, tmp_path
):
    """Another writer puts other bytes under the key between our PUT and our HEAD: the HEAD
    sees another size and SHA-256, the upload is an error and no object claims our SHA-256."""
    store = r2_resource(r2_endpoint_url, s3_credentials, s3_bucket).store()
    path, sha = _file(tmp_path / "a.zip", 4000, b"h")
    other = b"other writer"

    def other_writer(**_):
        s3_client.put_object(
            Bucket=s3_bucket, Key=KEY, Body=other, Metadata={"sha256": hashlib.sha256(other).hexdigest()}
        )

    store.client.meta.events.register("after-call.s3.PutObject", other_writer)
    with pytest.raises(UploadVerificationError, match=rf"{KEY} did not verify: stored size 12 != local size 4000"):
        store.put_verified(KEY, path, sha)
    assert store.head(KEY) is None and path.exists()


@pytest.mark.integration
def test_large_file_is_one_put_up_to_5_gib_and_multipart_above(
    s3_endpoint, s3_credentials, s3_bucket, s3_client, tmp_path
):
    """Up to the single-PUT limit (5 GiB on S3 and R2) one PUT, however large the part size;
    above it multipart with equal parts, read back since no whole-object checksum is checked."""
    resource = r2_resource(s3_endpoint, s3_credentials, s3_bucket)
    path, sha = _file(tmp_path / "big.zip", 40 * 2**20 + 12345, b"big")
    single = resource.store()
    sent = _recorded_requests(single)
    assert single.put_verified(KEY, path, sha).size == path.stat().st_size
    assert [method for method, _, _ in sent] == ["PUT", "HEAD"]

    multipart = S3ObjectStore(resource.get_client(), s3_bucket, single_put_limit=32 * 2**20)
    sent = _recorded_requests(multipart)
    result = multipart.put_verified(KEY, path, sha)
    assert result.size == path.stat().st_size
    head = s3_client.head_object(Bucket=s3_bucket, Key=KEY)
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # 16 + 16 + 8 MiB
    assert head["Metadata"] == {"sha256": sha}
    parts = [int(h["content-length"]) for m, url, h in sent if m == "PUT" and "partNumber=" in url]
    assert sorted(parts) == [8 * 2**20 + 12345, 16 * 2**20, 16 * 2**20]
    assert sent[-1][0] == "GET"
    _assert_r2_accepts_headers(sent)
    assert stored_keys(multipart, PREFIX) == [KEY]


@pytest.mark.integration
def test_r2_client_config(s3_endpoint, s3_credentials, s3_bucket):
    resource = r2_resource(s3_endpoint, s3_credentials, s3_bucket, max_attempts=2, connect_timeout=3)
    client = resource.get_client()
    config = client.meta.config
    assert client.meta.region_name == "auto"
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.s3["addressing_style"] == "path"
    assert config.retries["total_max_attempts"] == 2 and config.connect_timeout == 3
    assert resource.kind == "s3" and LocalArchiveStore.kind == "local"
    assert isinstance(resource.store(), S3ObjectStore)
    assert isinstance(LocalArchiveStore(root="x").store(), LocalFolderStore)
    assert r2_endpoint("0123abcd") == "https://0123abcd.r2.cloudflarestorage.com"
    with pytest.raises(ValueError):
        r2_endpoint("evil.com/x")
    by_account = R2ArchiveStore(bucket="b", account_id="0123abcd")
    assert by_account.region_name == "auto"
    assert by_account.get_client().meta.endpoint_url == "https://0123abcd.r2.cloudflarestorage.com"


@pytest.mark.integration
def test_endpoint_down_fails_fast_and_clearly(dead_s3_endpoint, s3_credentials, archive):
    secret = s3_credentials["aws_secret_access_key"]
    store = r2_resource(
        dead_s3_endpoint, s3_credentials, "archive", max_attempts=1, connect_timeout=1, read_timeout=2
    ).store()
    started = time.monotonic()
    with pytest.raises(
        ObjectStoreUnavailable, match=rf"cannot reach s3://archive at {dead_s3_endpoint}, key {KEY}"
    ) as exc:
        store.put_verified(KEY, archive.path, archive.sha256)
    with pytest.raises(ObjectStoreUnavailable):
        store.head(KEY)
    assert time.monotonic() - started < 10
    assert secret not in str(exc.value) and secret not in store.describe() and secret not in repr(store)


@pytest.mark.integration
def test_a_missing_bucket_is_a_refusal_not_a_transient_error(s3_endpoint, s3_credentials, s3_client, archive):
    store = r2_resource(s3_endpoint, s3_credentials, "no-such-bucket").store()
    with pytest.raises(ObjectStoreRefused, match=rf"s3://no-such-bucket at {s3_endpoint}, key {KEY}: NoSuchBucket"):
        store.put_verified(KEY, archive.path, archive.sha256)
    assert issubclass(ObjectStoreRefused, ObjectStoreError)
    assert "no-such-bucket" not in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]


@pytest.mark.integration
def test_resource_in_a_run_with_env_var_secrets(
    s3_endpoint, s3_credentials, s3_bucket, s3_client, archive, monkeypatch
):
    monkeypatch.setenv("TEST_R2_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("TEST_R2_ACCESS_KEY_ID", s3_credentials["aws_access_key_id"])
    monkeypatch.setenv("TEST_R2_SECRET_ACCESS_KEY", s3_credentials["aws_secret_access_key"])
    monkeypatch.setenv("TEST_R2_BUCKET", s3_bucket)

    @asset
    def uploaded(archive_store: R2ArchiveStore) -> MaterializeResult:
        store = archive_store.store()
        result = store.put_verified(KEY, archive.path, archive.sha256)
        return MaterializeResult(
            metadata={"url": store.url_for(KEY), "store": store.describe(), "sha256": result.sha256}
        )

    resource = R2ArchiveStore(
        endpoint_url=EnvVar("TEST_R2_ENDPOINT_URL"),
        aws_access_key_id=EnvVar("TEST_R2_ACCESS_KEY_ID"),
        aws_secret_access_key=EnvVar("TEST_R2_SECRET_ACCESS_KEY"),
        bucket=EnvVar("TEST_R2_BUCKET"),
    )
    result = materialize([uploaded], resources={"archive_store": resource})
    assert result.success
    metadata = result.asset_materializations_for_node("uploaded")[0].metadata
    assert metadata["url"].value == f"s3://{s3_bucket}/{KEY}"
    assert s3_credentials["aws_secret_access_key"] not in str(metadata)
    assert s3_client.head_object(Bucket=s3_bucket, Key=KEY)["Metadata"] == {"sha256": archive.sha256}


def test_local_store_in_place_and_stale_sidecar(tmp_path):
    data_dir = tmp_path / "data"
    _, _, info = make_archive(data_dir)
    store = LocalFolderStore(data_dir / "archives")  # the zip already sits at <root>/<key>
    result = store.put_verified(KEY, info.path, info.sha256)
    assert result.stored_at_source and info.path.exists()
    with pytest.raises(UploadVerificationError):
        store.put_verified(KEY, info.path, "0" * 64)
    assert info.path.exists()

    # A file replaced behind the store's back: head recomputes instead of trusting the sidecar.
    (data_dir / "archives" / KEY).write_bytes(b"other")
    assert store.head(KEY).sha256 == hashlib.sha256(b"other").hexdigest()
    (data_dir / "archives" / KEY).unlink()
    assert store.head(KEY) is None


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "a/../b", "a/./b", ".hidden", "a/.sha256/b", "a\\b"])
def test_bad_keys_are_refused(key, tmp_path):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        LocalFolderStore(tmp_path).head(key)
