"""Object stores for archives: an S3-compatible bucket (Cloudflare R2, moto) and a local folder.

Both give the same promise: `put_verified` returns only once the stored object is known
to have the size and SHA-256 the caller expects. The SHA-256 is kept with the object (S3
metadata `sha256`; a sidecar file locally), so `head` can report it without downloading.
Keys are deterministic, so putting a key again replaces the object.

Errors are `ObjectStoreError`s whose messages name the store and the key, never a
credential: `ObjectStoreUnavailable` when the endpoint cannot be reached,
`UploadVerificationError` when the stored bytes are not the expected ones.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import json
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reddit_assets.files.atomic import atomic_file, copy_hashing, sha256_file

MiB = 1 << 20
DEFAULT_PART_SIZE = 16 * MiB
# The largest object S3 and R2 take in one PutObject; larger ones must go multipart.
SINGLE_PUT_LIMIT = 5 * 1024 * MiB
SHA256_METADATA_KEY = "sha256"
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class ObjectStoreError(RuntimeError):
    """An object store operation failed; the message names the store and key."""


class ObjectStoreUnavailable(ObjectStoreError):
    """The store's endpoint could not be reached (connection refused, timeout, reset)."""


class ObjectStoreRefused(ObjectStoreError):
    """The store refused for a reason retrying cannot fix: credentials, permissions, bucket."""


# S3 error codes that stay the same however often the request is repeated.
_REFUSAL_CODES = frozenset(
    {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "NoSuchBucket", "InvalidBucketName"}
)


def _client_error(message: str, exc) -> ObjectStoreError:
    err = exc.response.get("Error", {})
    code = err.get("Code", "?")
    kind = ObjectStoreRefused if code in _REFUSAL_CODES else ObjectStoreError
    return kind(f"{message}: {code} {err.get('Message', '')}".rstrip())


class VerificationError(ObjectStoreError):
    """Stored bytes are not the expected ones."""


class UploadVerificationError(VerificationError):
    """An upload is not stored with the expected size or SHA-256 (refused by the store, or found by HEAD or read-back)."""


class DownloadVerificationError(VerificationError):
    """A downloaded object does not match the SHA-256 recorded with it."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str | None  # None when the object carries no recorded SHA-256
    etag: str | None = None


@dataclass(frozen=True)
class UploadResult:
    key: str
    size: int
    sha256: str
    # True when the stored object *is* the file that was passed in (a local folder store
    # whose root holds it): the caller must not delete that file after the upload.
    stored_at_source: bool = False


def check_key(key: str) -> str:
    """Refuse keys that could escape a folder or clash with temporary and metadata files."""
    if not isinstance(key, str) or not key or len(key.encode("utf-8")) > 1024:
        raise ValueError(f"object key {key!r} must be a non-empty string of at most 1024 bytes")
    if "\\" in key or "\x00" in key or key.startswith("/"):
        raise ValueError(f"object key {key!r} must be a relative path with '/' separators")
    for part in key.split("/"):
        if not part or part.startswith("."):
            raise ValueError(f"object key {key!r} has an empty, '.'/'..' or hidden path segment")
    return key


def _check_sha(sha256: str) -> str:
    if not isinstance(sha256, str) or not _SHA256_RE.fullmatch(sha256):
        raise ValueError(f"expected a lowercase hex SHA-256, got {sha256!r}")
    return sha256


class ObjectStore(abc.ABC):
    """Where archives go. Implementations: `S3ObjectStore`, `LocalFolderStore`."""

    kind: str = "abstract"

    @abc.abstractmethod
    def put_verified(self, key: str, path: Path, sha256: str) -> UploadResult:
        """Store `path` under `key` and check the stored object's size and SHA-256.

        Raises UploadVerificationError (and leaves no object claiming that SHA-256) if the
        stored bytes do not match `sha256`.
        """

    @abc.abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """Size and recorded SHA-256 of the object, or None if there is none."""

    @abc.abstractmethod
    def download(self, key: str, dest: Path) -> Path:
        """Write the object to `dest` atomically, checking the recorded SHA-256 if any."""

    @abc.abstractmethod
    def describe(self) -> str:
        """Where the store is, for people (never credentials)."""

    @abc.abstractmethod
    def url_for(self, key: str) -> str:
        """A human link to the object (s3://bucket/key, file:///path)."""

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"


# --------------------------------------------------------------------------- S3 / R2


class S3ObjectStore(ObjectStore):
    """An S3-compatible bucket through a boto3 client (R2 in production, moto in tests).

    An object up to `single_put_limit` (5 GiB) is one PutObject that carries its SHA-256
    (`x-amz-checksum-sha256`): R2 refuses bytes that do not match it (BadDigest), so a
    HEAD then only confirms the size and the recorded SHA-256, and nothing is read back.
    With `read_back=True`, for stores that do not check that header, the object is read
    back and hashed instead. A larger object goes multipart through `client.upload_file`
    (threshold and part size equal, so every part except the last has the same size, as
    R2 requires) and is always read back. No ACLs are sent. The SHA-256 also goes in the
    object's metadata.
    """

    kind = "s3"

    def __init__(
        self,
        client,
        bucket: str,
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = 4,
        read_back: bool = False,
        single_put_limit: int = SINGLE_PUT_LIMIT,
    ):
        if not bucket:
            raise ValueError("an S3 object store needs a bucket name")
        if part_size < 5 * MiB:
            raise ValueError("S3 multipart parts must be at least 5 MiB")
        self.client = client
        self.bucket = bucket
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self.read_back = read_back
        if single_put_limit > SINGLE_PUT_LIMIT:
            raise ValueError("a single S3 PutObject carries at most 5 GiB")
        self.single_put_limit = single_put_limit

    # -- helpers

    @property
    def endpoint(self) -> str:
        url = getattr(getattr(self.client, "meta", None), "endpoint_url", None) or ""
        parts = urlsplit(url)
        # Only scheme and host: never anything that could carry userinfo or a query.
        return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}" if parts.hostname else ""

    def describe(self) -> str:
        return f"s3://{self.bucket}" + (f" at {self.endpoint}" if self.endpoint else "")

    def url_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _transfer_config(self):
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.part_size,
            multipart_chunksize=self.part_size,
            max_concurrency=self.max_concurrency,
            use_threads=self.max_concurrency > 1,
        )

    @contextlib.contextmanager
    def _errors(self, action: str, key: str | None):
        """Turn botocore/boto3 failures into ObjectStoreErrors that name store and key."""
        import boto3.exceptions
        import botocore.exceptions as bce

        where = f"{self.describe()}" + (f", key {key}" if key else "")
        try:
            yield
        except ObjectStoreError:
            raise
        except (bce.ConnectionError, bce.HTTPClientError) as exc:
            raise ObjectStoreUnavailable(f"{action} failed: cannot reach {where}: {exc}") from exc
        except bce.ClientError as exc:
            raise _client_error(f"{action} failed on {where}", exc) from exc
        except boto3.exceptions.S3UploadFailedError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, (bce.ConnectionError, bce.HTTPClientError)):
                raise ObjectStoreUnavailable(f"{action} failed: cannot reach {where}: {cause}") from exc
            if isinstance(cause, bce.ClientError):
                raise _client_error(f"{action} failed on {where}", cause) from exc
            raise ObjectStoreError(f"{action} failed on {where}: {exc}") from exc
        except bce.BotoCoreError as exc:
            raise ObjectStoreError(f"{action} failed on {where}: {exc}") from exc

    @staticmethod
    def _is_missing(exc) -> bool:
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status == 404 or err.get("Code") in ("404", "NoSuchKey", "NotFound")

    def _head_raw(self, key: str, **extra) -> dict | None:
        import botocore.exceptions as bce

        with self._errors("head", key):
            try:
                return self.client.head_object(Bucket=self.bucket, Key=key, **extra)
            except bce.ClientError as exc:
                if self._is_missing(exc):
                    return None
                raise

    # -- API

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        resp = self._head_raw(key)
        if resp is None:
            return None
        sha = (resp.get("Metadata") or {}).get(SHA256_METADATA_KEY)
        return ObjectInfo(
            key=key, size=int(resp["ContentLength"]), sha256=sha, etag=(resp.get("ETag") or "").strip('"') or None
        )

    def put_verified(self, key: str, path: Path, sha256: str) -> UploadResult:
        check_key(key)
        _check_sha(sha256)
        path = Path(path)
        size = path.stat().st_size
        extra: dict[str, Any] = {"Metadata": {SHA256_METADATA_KEY: sha256}}
        content_type = mimetypes.guess_type(key)[0]
        if content_type:
            extra["ContentType"] = content_type
        single = size <= self.single_put_limit
        with self._errors("upload", key):
            if single:
                self._put_checked(key, path, sha256, extra)
            else:
                # Above the 5 GiB a single PUT may carry: multipart, as upload_file sends it.
                # The store checks no SHA-256 of the whole object then, so it is read back.
                self.client.upload_file(str(path), self.bucket, key, ExtraArgs=extra, Config=self._transfer_config())
        if single and not self.read_back:
            self._verify_by_head(key, size, sha256)
        else:
            self._verify_by_read_back(key, size, sha256)
        return UploadResult(key=key, size=size, sha256=sha256)

    def _put_checked(self, key: str, path: Path, sha256: str, extra: dict) -> None:
        """One PutObject carrying the file's SHA-256; the store's BadDigest becomes an UploadVerificationError.

        ChecksumAlgorithm makes the store record the checksum (moto keeps it only then);
        with ChecksumSHA256 given, botocore computes none of its own (no CRC32 header or
        trailer, which R2 refuses)."""
        import botocore.exceptions as bce

        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        try:
            with open(path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, ChecksumSHA256=checksum, ChecksumAlgorithm="SHA256", **extra
                )
        except bce.ClientError as exc:
            err = exc.response.get("Error", {})
            if err.get("Code") != "BadDigest":
                raise
            detail = f"BadDigest {err.get('Message', '')}".rstrip()
            raise UploadVerificationError(
                f"upload to {self.describe()}, key {key} did not verify: the store refused the bytes it received "
                f"as not matching the SHA-256 sent with them (expected {sha256}; {detail}); the key was left as it was"
            ) from None

    def _verify_by_head(self, key: str, size: int, sha256: str) -> ObjectInfo:
        """One HEAD: the stored size, and the SHA-256 the store recorded (checksum and metadata),
        must be ours; raise UploadVerificationError (after removing the object) if not."""
        resp = self._head_raw(key, ChecksumMode="ENABLED")
        if resp is None:
            raise UploadVerificationError(
                f"upload to {self.describe()}, key {key}: the object is not there after the upload"
            )
        problems: list[str] = []
        stored_size = int(resp["ContentLength"])
        if stored_size != size:
            problems.append(f"stored size {stored_size} != local size {size}")
        checksum = resp.get("ChecksumSHA256")  # None from a store that does not record it
        if checksum is not None and checksum != base64.b64encode(bytes.fromhex(sha256)).decode("ascii"):
            problems.append(f"stored checksum {checksum!r} is not SHA-256 {sha256}")
        meta_sha = (resp.get("Metadata") or {}).get(SHA256_METADATA_KEY)
        if meta_sha != sha256:
            problems.append(f"metadata sha256 {meta_sha!r} != expected {sha256}")
        if problems:
            self._remove_unverified(key, problems)
        return ObjectInfo(key=key, size=stored_size, sha256=sha256, etag=(resp.get("ETag") or "").strip('"') or None)

    def _verify_by_read_back(self, key: str, size: int, sha256: str) -> ObjectInfo:
        """Read the stored object back; raise UploadVerificationError (after removing it) on mismatch.

        One GET: its headers (size, the recorded SHA-256) and its body describe the same
        stored object, so no HEAD beforehand (a request less per archive)."""
        import botocore.exceptions as bce

        problems: list[str] = []
        with self._errors("verify (download)", key):
            try:
                resp = self.client.get_object(Bucket=self.bucket, Key=key)
            except bce.ClientError as exc:
                if not self._is_missing(exc):
                    raise
                raise UploadVerificationError(
                    f"upload to {self.describe()}, key {key}: the object is not there after the upload"
                ) from None
            stored_size = int(resp["ContentLength"])
            etag = resp.get("ETag")
            meta_sha = (resp.get("Metadata") or {}).get(SHA256_METADATA_KEY)
            if stored_size != size:
                problems.append(f"stored size {stored_size} != local size {size}")
            if meta_sha != sha256:
                problems.append(f"metadata sha256 {meta_sha!r} != expected {sha256}")
            with contextlib.closing(resp["Body"]) as body:
                if not problems:
                    read, stored_sha = copy_hashing(body)
                    if read != size:
                        problems.append(f"read back {read} bytes, expected {size}")
                    if stored_sha != sha256:
                        problems.append(f"stored bytes have SHA-256 {stored_sha}, expected {sha256}")
        if problems:
            self._remove_unverified(key, problems)
        return ObjectInfo(key=key, size=stored_size, sha256=sha256, etag=(etag or "").strip('"') or None)

    def _remove_unverified(self, key: str, problems: list[str]):
        """Delete the object that did not verify, then raise UploadVerificationError listing `problems`."""
        note = "the object was removed"
        try:
            with self._errors("delete unverified object", key):
                self.client.delete_object(Bucket=self.bucket, Key=key)
        except ObjectStoreError as exc:
            note = f"removing the unverified object also failed ({exc})"
        raise UploadVerificationError(
            f"upload to {self.describe()}, key {key} did not verify: {'; '.join(problems)}; {note}"
        )

    def download(self, key: str, dest: Path) -> Path:
        check_key(key)
        dest = Path(dest)
        with self._errors("download", key):
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
            expected = (resp.get("Metadata") or {}).get(SHA256_METADATA_KEY)
            body = resp["Body"]
            with contextlib.closing(body), atomic_file(dest) as out:
                _, sha = copy_hashing(body, out)
                if expected and sha != expected:
                    raise DownloadVerificationError(
                        f"download from {self.describe()}, key {key}: SHA-256 {sha} does not match "
                        f"the recorded {expected}; {dest} not written"
                    )
        return dest


# --------------------------------------------------------------------------- local folder


class LocalFolderStore(ObjectStore):
    """Objects as files under a folder: `<root>/<key>`, SHA-256 sidecars under `<root>/.sha256/`.

    Same semantics as the bucket: atomic writes (temporary file, fsync, rename), the
    stored copy is re-read and hashed before it is renamed into place, and putting a
    key again replaces the file.
    """

    kind = "local"
    _META_DIR = ".sha256"

    def __init__(self, root: Path | str):
        self.root = Path(root).expanduser().absolute()

    def describe(self) -> str:
        return f"local folder {self.root}"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _sidecar(self, key: str) -> Path:
        return self.root.joinpath(self._META_DIR, *key.split("/")).with_name(key.rsplit("/", 1)[-1] + ".json")

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()

    def _write_sidecar(self, key: str, dest: Path, sha256: str) -> None:
        stat = dest.stat()
        record = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        with atomic_file(self._sidecar(key)) as out:
            out.write(json.dumps(record).encode("utf-8"))

    def head(self, key: str) -> ObjectInfo | None:
        dest = self._path(key)
        try:
            stat = dest.stat()
        except FileNotFoundError:
            return None
        if not dest.is_file():
            return None
        sha = None
        try:
            record = json.loads(self._sidecar(key).read_text("utf-8"))
            if record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns:
                sha = record.get("sha256")
        except (OSError, ValueError, AttributeError):
            pass
        if sha is None:  # no sidecar, or one left from an older file: recompute
            sha = sha256_file(dest)
        return ObjectInfo(key=key, size=stat.st_size, sha256=sha)

    def put_verified(self, key: str, path: Path, sha256: str) -> UploadResult:
        _check_sha(sha256)
        path = Path(path)
        dest = self._path(key)
        size = path.stat().st_size
        where = f"{self.describe()}, key {key}"

        if dest.exists() and os.path.samefile(path, dest):
            # The file already sits where the store keeps it: verify it in place.
            actual = sha256_file(dest)
            if actual != sha256:
                raise UploadVerificationError(
                    f"store to {where} did not verify: the file has SHA-256 {actual}, expected {sha256}; "
                    "nothing recorded"
                )
            self._write_sidecar(key, dest, sha256)
            return UploadResult(key=key, size=size, sha256=sha256, stored_at_source=True)

        with open(path, "rb") as src, atomic_file(dest) as out:
            copy_hashing(src, out)
            out.flush()
            # Verify what is stored (the temporary file, before the rename), not what we meant to write.
            stored_size = os.fstat(out.fileno()).st_size
            stored_sha = sha256_file(Path(out.name))
            problems = []
            if stored_size != size:
                problems.append(f"stored size {stored_size} != local size {size}")
            if stored_sha != sha256:
                problems.append(f"stored bytes have SHA-256 {stored_sha}, expected {sha256}")
            if problems:
                raise UploadVerificationError(
                    f"store to {where} did not verify: {'; '.join(problems)}; nothing was stored"
                )
        self._write_sidecar(key, dest, sha256)
        return UploadResult(key=key, size=size, sha256=sha256)

    def download(self, key: str, dest: Path) -> Path:
        info = self.head(key)
        if info is None:
            raise ObjectStoreError(f"download from {self.describe()}: no object {key}")
        dest = Path(dest)
        with open(self._path(key), "rb") as src, atomic_file(dest) as out:
            _, sha = copy_hashing(src, out)
            if info.sha256 and sha != info.sha256:
                raise DownloadVerificationError(
                    f"download from {self.describe()}, key {key}: SHA-256 {sha} does not match "
                    f"the recorded {info.sha256}; {dest} not written"
                )
        return dest


__all__ = [
    "DEFAULT_PART_SIZE",
    "DownloadVerificationError",
    "LocalFolderStore",
    "ObjectInfo",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreUnavailable",
    "S3ObjectStore",
    "SINGLE_PUT_LIMIT",
    "UploadResult",
    "UploadVerificationError",
    "VerificationError",
    "check_key",
]
