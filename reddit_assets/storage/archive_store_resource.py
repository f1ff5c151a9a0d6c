"""Dagster resources that hand out the archive object store.

`R2ArchiveStore` is the Cloudflare R2 bucket (any S3-compatible endpoint; moto in
tests), built on dagster-aws's `S3Resource`. `LocalArchiveStore` is a folder, the
default when no bucket is configured. Both are `ArchiveStoreResource`s: `.store() -> ObjectStore` and `.kind`.

Secrets reach `R2ArchiveStore` only as `dagster.EnvVar`s set by the caller, e.g.::

    R2ArchiveStore(
        endpoint_url=EnvVar("R2_ENDPOINT_URL"),
        aws_access_key_id=EnvVar("R2_ACCESS_KEY_ID"),
        aws_secret_access_key=EnvVar("R2_SECRET_ACCESS_KEY"),
        bucket=EnvVar("R2_BUCKET"),
    )
"""

from __future__ import annotations

import abc
import re
from pathlib import Path
from typing import Any, ClassVar

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from reddit_assets.storage.objects import DEFAULT_PART_SIZE, LocalFolderStore, MiB, ObjectStore, S3ObjectStore

_ACCOUNT_ID_RE = re.compile(r"[A-Za-z0-9]{1,64}")


def r2_endpoint(account_id: str) -> str:
    """The S3 endpoint of a Cloudflare account: ``https://<account_id>.r2.cloudflarestorage.com``."""
    account_id = (account_id or "").strip()
    if not _ACCOUNT_ID_RE.fullmatch(account_id):
        raise ValueError("a Cloudflare account id is letters and digits only (32 hex characters)")
    return f"https://{account_id}.r2.cloudflarestorage.com"


def r2_client_config(
    max_attempts: int = 5,
    connect_timeout: float = 10.0,
    read_timeout: float = 60.0,
    addressing_style: str = "path",
):
    """The botocore Config R2 needs.

    boto3 1.36+ adds CRC32 checksums to every upload and validates them on download;
    R2 has rejected those headers, so both are limited to operations that require them.
    """
    from botocore.config import Config

    return Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": addressing_style},
        # total_max_attempts counts the first try, as S3Resource's max_attempts does.
        retries={"total_max_attempts": max_attempts, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


class ArchiveStoreResource(ConfigurableResource):
    """What the assets ask for: the archive store, handed out as an `ObjectStore`."""

    kind: ClassVar[str]

    @abc.abstractmethod
    def store(self) -> ObjectStore:
        """The object store the archives are put into and restored from."""


class R2ArchiveStore(S3Resource, ArchiveStoreResource):
    """Archive bucket on Cloudflare R2 (or any S3-compatible endpoint), with verified uploads.

    An upload sends the zip's SHA-256 with it, R2 refuses bytes that do not match, and a
    HEAD confirms the stored size and SHA-256: nothing is downloaded. For an endpoint that
    does not check `x-amz-checksum-sha256` (moto, some S3-compatible servers), set
    `verify_by_read_back=True`: each upload is then read back whole and hashed.
    """

    kind: ClassVar[str] = "s3"

    bucket: str = Field(description="Bucket that receives the archives.")
    account_id: str | None = Field(
        default=None,
        description="Cloudflare account id; gives the endpoint when endpoint_url is not set.",
    )
    region_name: str | None = Field(default="auto", description="Region; R2 uses 'auto'.")
    connect_timeout: float = Field(default=10.0, description="Seconds to wait for a connection.")
    read_timeout: float = Field(default=60.0, description="Seconds to wait for a response.")
    addressing_style: str = Field(default="path", description="S3 addressing style: 'path' or 'virtual'.")
    part_size_mib: int = Field(
        default=DEFAULT_PART_SIZE // MiB,
        description=(
            "Part size in MiB of the multipart uploads of archives above 5 GiB, the most one PUT"
            " carries (parts are equal in size; at least 5)."
        ),
    )
    verify_by_read_back: bool = Field(
        default=False,
        description=(
            "Read each uploaded archive back and hash it, for stores that do not check the"
            " SHA-256 sent with an upload; off: one HEAD checks size and recorded SHA-256."
        ),
    )

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    def resolved_endpoint_url(self) -> str | None:
        """endpoint_url if set, else the R2 endpoint of account_id, else None (AWS S3)."""
        if self.endpoint_url:
            return self.endpoint_url
        if self.account_id:
            return r2_endpoint(self.account_id)
        return None

    def get_client(self) -> Any:
        """A boto3 S3 client with S3Resource's settings plus the Config R2 needs.

        S3Resource.get_client builds its own botocore Config (retries only), so the
        client is built here from the same fields with `r2_client_config` applied.
        """
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        config = r2_client_config(
            max_attempts=self.max_attempts,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            addressing_style=self.addressing_style,
        )
        if self.use_unsigned_session:
            config = config.merge(Config(signature_version=UNSIGNED))
        session = boto3.session.Session(profile_name=self.profile_name)
        return session.client(
            "s3",
            region_name=self.region_name,
            endpoint_url=self.resolved_endpoint_url(),
            use_ssl=self.use_ssl,
            verify=self.verify,
            aws_access_key_id=self.aws_access_key_id or None,
            aws_secret_access_key=self.aws_secret_access_key or None,
            aws_session_token=self.aws_session_token or None,
            config=config,
        )

    def store(self) -> ObjectStore:
        if not self.bucket:
            raise ValueError("R2ArchiveStore needs a bucket (set R2_BUCKET)")
        return S3ObjectStore(
            self.get_client(), self.bucket, part_size=self.part_size_mib * MiB, read_back=self.verify_by_read_back
        )


class LocalArchiveStore(ArchiveStoreResource):
    """Archive store in a local folder; used when no bucket is configured."""

    kind: ClassVar[str] = "local"

    root: str = Field(description="Folder that receives the archives, laid out by object key.")

    def store(self) -> ObjectStore:
        return LocalFolderStore(Path(self.root))


__all__ = ["ArchiveStoreResource", "LocalArchiveStore", "R2ArchiveStore", "r2_client_config", "r2_endpoint"]
