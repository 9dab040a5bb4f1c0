"""A real S3-compatible server for the evidence store's tests: moto in server mode on loopback.

Why moto's server: it installs from PyPI with the dev dependencies (no other binary, no container), and it
speaks the S3 HTTP API over a real socket, so the product's own boto3 client runs unchanged against it
(signing, retries, error parsing, checksums); only the endpoint URL differs from AWS. One server per test
session (it starts in a thread in a fraction of a second); every test gets its own bucket and its own
fake credentials, and the machine's AWS configuration (~/.aws, instance metadata) is kept out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from aggregator.settings import Settings
from tests.postgres import throwaway_database

# Fake credentials moto accepts; the tests also check no error message ever shows them.
ACCESS_KEY_ID = "AKIAEVIDENCETESTKEY1"
SECRET_ACCESS_KEY = "evidence-test-secret-do-not-print"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        """A plain boto3 client, as an operator (or an attacker with write access) would use on the bucket."""
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=REGION)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Server(f"http://{host}:{port}")
    server.stop()


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials from the environment (the standard chain's first link); nothing from this machine's AWS setup."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def bucket(s3_server: S3Server, aws_environment: None) -> str:
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def s3_settings(data_dir: Path, server: S3Server, bucket: str, **extra: Any) -> Settings:
    return Settings(data_dir=data_dir, evidence_store="s3", evidence_s3_bucket=bucket, evidence_s3_prefix="practice-1/",
                    evidence_s3_endpoint_url=server.endpoint_url, evidence_s3_region=REGION, **extra)


def objects(server: S3Server, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object of the bucket under `prefix`, key (without the prefix) -> bytes."""
    client = server.client()
    found: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"][len(prefix):]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def local_files(root: Path) -> dict[str, bytes]:
    """Every file of a directory store, relative path -> bytes."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with throwaway_database("aggregator_test_s3") as url:
        yield url
