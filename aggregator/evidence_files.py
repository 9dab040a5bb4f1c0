"""Where evidence files live: a local directory (the default) or an S3-compatible bucket.

Both stores are content-addressed the same way: a file's name is `<sha[:2]>/<sha><suffix>` (its own SHA-256),
the directory store keeps it at `<snapshots>/<name>` and the S3 store under the key `<prefix><name>`, so a store
copied from one to the other (`aws s3 sync snapshots/ s3://bucket/prefix/`) is read back unchanged. The hash
chain that makes the files tamper-evident is not here: it is the evidence table (aggregator/evidence.py), in
whatever database the product runs on.

A store only puts and reads bytes. Reads check nothing (`verify_chain` does, against the chain); a put of a
name that exists is a no-op once the stored bytes hash to that name. Everything above this module goes
through `evidence_files(settings)`, the one place that decides which store a process uses.

The S3 store talks to the bucket with boto3 (imported only when the store is selected: the default install
does not need it). Credentials come from the standard AWS chain (environment, ~/.aws, instance or container
role); the product never stores them. Objects are written private (no ACL: the bucket's own, owner-only by
default), with server-side encryption when `evidence_s3_server_side_encryption` asks for it, and they never
pass through the local disk. Its errors say what is wrong (bucket missing, access denied, endpoint
unreachable) in words without keys, credentials or the request that failed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from aggregator.errors import AggregatorError, ConfigurationError, Outcome
from aggregator.logging import get_logger

if TYPE_CHECKING:
    from aggregator.settings import Settings

log = get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# The content type each suffix is stored with in S3. The portal's HTML is kept as text, the rule the web app
# follows too (aggregator/web/routes_staff.py): should a bucket ever be served, a portal page never runs there.
CONTENT_TYPES = {".png": "image/png", ".html": "text/plain; charset=utf-8", ".pdf": "application/pdf"}
S3_READ_THREADS = 16  # S3 reads wait on the network: verifying a chain fetches this many files at once


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_name(digest: str, suffix: str) -> str:
    """A file's name in every store: `ab/abcdef....png`."""
    return f"{digest[:2]}/{digest}{suffix}"


class EvidenceStoreUnavailable(AggregatorError):
    """The evidence store cannot be reached now (network, timeout, a server error): trying later can help."""

    retryable = True
    outcome = Outcome.RETRY_LATER


class EvidenceStoreMisconfigured(ConfigurationError):
    """The evidence store refuses us (bucket missing, access denied, no credentials): a person must fix it."""


class EvidenceFiles(Protocol):
    """What the recorder, `verify_chain`, the web app, the exports and the metrics use of a store."""

    @property
    def read_threads(self) -> int:
        """How many reads are worth running at once (1: the local disk gains nothing from more)."""
        ...

    def put(self, data: bytes, suffix: str) -> tuple[str, str]:
        """Store `data`; returns (its SHA-256, its content-addressed name)."""
        ...

    def read(self, relative: str) -> bytes | None:
        """The stored bytes, unchecked; None when the store has no such file (or the name is not one of ours)."""
        ...

    def size(self, relative: str) -> int | None:
        """The stored size in bytes; None when there is no such file."""
        ...

    def where(self, relative: str) -> str:
        """Where the file is, for a person: a path or an s3:// URI."""
        ...


def evidence_files(settings: Settings) -> EvidenceFiles:
    """The store this process uses: the one place that reads `evidence_store`."""
    if settings.evidence_store == "s3":
        return S3EvidenceFiles.from_settings(settings)
    return DirectoryEvidenceFiles(settings.resolved_snapshots_dir)


def read_many(files: EvidenceFiles, read: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`read` applied to each item, in order, `files.read_threads` at a time."""
    listed = list(items)
    if files.read_threads <= 1 or len(listed) <= 1:
        return [read(item) for item in listed]
    with ThreadPoolExecutor(max_workers=min(files.read_threads, len(listed))) as pool:
        return list(pool.map(read, listed))


def _is_store_name(relative: str) -> bool:
    """A name a store may be asked for: relative, no `..`, no backslash (the rows only ever hold ours)."""
    if not relative or relative.startswith("/") or "\\" in relative:
        return False
    return ".." not in PurePosixPath(relative).parts


# --- the local directory ----------------------------------------------------------------------------------------

class DirectoryEvidenceFiles:
    """Content-addressed files under the snapshots directory (the default store)."""

    read_threads = 1

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, suffix: str) -> tuple[str, str]:
        digest = sha256_hex(data)
        relative = content_name(digest, suffix)
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write-then-rename: a crash never leaves a half file under a checksum name.
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        return digest, relative

    def path(self, relative: str) -> Path:
        """The file's path (it may not exist). The directory store's own: other stores have no paths."""
        return self.root / relative

    def _existing(self, relative: str) -> Path | None:
        if not _is_store_name(relative):
            return None
        path = (self.root / relative).resolve()
        # A link inside the store that leads out of it is not evidence.
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            return None
        return path

    def read(self, relative: str) -> bytes | None:
        path = self._existing(relative)
        try:
            return path.read_bytes() if path is not None else None
        except FileNotFoundError:
            return None

    def size(self, relative: str) -> int | None:
        path = self._existing(relative)
        try:
            return path.stat().st_size if path is not None else None
        except FileNotFoundError:
            return None

    def where(self, relative: str) -> str:
        return str(self.root / relative)


# Before issue 16 the directory store was the only one; tests and benchmarks still name it so.
SnapshotFiles = DirectoryEvidenceFiles


# --- S3-compatible object storage -------------------------------------------------------------------------------

# Error codes an S3-compatible server answers when the caller may not do what it asked.
_DENIED = frozenset({"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                     "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem",
                     "KMS.AccessDeniedException", "KMS.DisabledException"})
_MISSING_OBJECT = frozenset({"NoSuchKey", "404", "NotFound"})


class S3EvidenceFiles:
    """Content-addressed objects `<prefix><sha[:2]>/<sha><suffix>` in one bucket."""

    read_threads = S3_READ_THREADS

    def __init__(self, client: Any, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 server_side_encryption: str | None = None, kms_key_id: str | None = None) -> None:
        # `client` is a boto3 S3 client (boto3 ships no type information: Any). Clients are thread-safe, so
        # one serves every thread of the process.
        self.client = client
        self.bucket = bucket
        self.prefix = normalized_prefix(prefix)
        self.endpoint = _endpoint_for_people(endpoint_url)
        self.put_options: dict[str, str] = {}
        if server_side_encryption:
            self.put_options["ServerSideEncryption"] = server_side_encryption
            if kms_key_id:
                self.put_options["SSEKMSKeyId"] = kms_key_id

    @classmethod
    def from_settings(cls, settings: Settings) -> S3EvidenceFiles:
        if not settings.evidence_s3_bucket:
            raise EvidenceStoreMisconfigured("AGGREGATOR_EVIDENCE_STORE=s3 needs AGGREGATOR_EVIDENCE_S3_BUCKET")
        if settings.evidence_s3_kms_key_id and settings.evidence_s3_server_side_encryption not in ("aws:kms",
                                                                                                  "aws:kms:dsse"):
            raise EvidenceStoreMisconfigured("AGGREGATOR_EVIDENCE_S3_KMS_KEY_ID needs "
                                             "AGGREGATOR_EVIDENCE_S3_SERVER_SIDE_ENCRYPTION=aws:kms")
        return cls(s3_client(settings), settings.evidence_s3_bucket, prefix=settings.evidence_s3_prefix,
                   endpoint_url=settings.evidence_s3_endpoint_url,
                   server_side_encryption=settings.evidence_s3_server_side_encryption,
                   kms_key_id=settings.evidence_s3_kms_key_id)

    def put(self, data: bytes, suffix: str) -> tuple[str, str]:
        raw_digest = hashlib.sha256(data).digest()
        digest = raw_digest.hex()
        relative = content_name(digest, suffix)
        existing = self.read(relative)
        if existing is not None:
            if sha256_hex(existing) == digest:
                return digest, relative
            # The name is the checksum of exactly these bytes, so writing them repairs the object; the chain's
            # earlier entries keep naming it. Logged: something changed an object behind our back.
            log.warning("evidence_object_rewritten", store=self.describe(), file=relative)
        self._call(lambda: self.client.put_object(
            Bucket=self.bucket, Key=self.prefix + relative, Body=data,
            ContentType=CONTENT_TYPES.get(suffix, "application/octet-stream"),
            # The server checks the upload against it and refuses a body damaged on the way.
            ChecksumSHA256=base64.b64encode(raw_digest).decode("ascii"),
            **self.put_options))
        return digest, relative

    def read(self, relative: str) -> bytes | None:
        if not _is_store_name(relative):
            return None
        response = self._call(lambda: self.client.get_object(Bucket=self.bucket, Key=self.prefix + relative))
        if response is None:
            return None
        body = response["Body"]
        try:
            return bytes(self._call(body.read) or b"")
        finally:
            body.close()

    def size(self, relative: str) -> int | None:
        if not _is_store_name(relative):
            return None
        response = self._call(lambda: self.client.head_object(Bucket=self.bucket, Key=self.prefix + relative))
        return int(response["ContentLength"]) if response is not None else None

    def where(self, relative: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{relative}"

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" + (f" at {self.endpoint}" if self.endpoint else "")

    def _call(self, request: Callable[[], Any]) -> Any:
        """Run one S3 request; None when the object does not exist; our errors for everything else. Raised
        `from None`: botocore's own exceptions carry the request (URL, headers) and stay out of logs."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            CredentialRetrievalError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        try:
            return request()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            failure: AggregatorError
            if code == "NoSuchBucket":
                failure = EvidenceStoreMisconfigured(f"the evidence bucket {self.describe()} does not exist")
            elif code in _MISSING_OBJECT:
                return None
            elif code in _DENIED or status == 403:
                failure = EvidenceStoreMisconfigured(
                    f"the evidence store {self.describe()} denied access ({_safe_code(code)}): check the AWS "
                    "credentials this process uses and that they may s3:GetObject, s3:PutObject and s3:ListBucket "
                    "there")
            else:
                failure = EvidenceStoreUnavailable(
                    f"the evidence store {self.describe()} answered an error ({_safe_code(code)}, HTTP {status})")
        except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError):
            failure = EvidenceStoreMisconfigured(
                f"no AWS credentials for the evidence store {self.describe()}: set them in the environment, "
                "~/.aws or an instance role")
        except BotoCoreError as error:
            failure = EvidenceStoreUnavailable(
                f"the evidence store {self.describe()} cannot be reached ({type(error).__name__})")
        raise failure from None


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the settings: endpoint, region, addressing style; credentials from AWS's chain."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise EvidenceStoreMisconfigured("AGGREGATOR_EVIDENCE_STORE=s3 needs boto3: "
                                         "pip install 'carrier-portal-aggregator[postgres]'") from None
    # Retries: botocore's standard mode; how many attempts comes from the AWS config chain (AWS_MAX_ATTEMPTS,
    # ~/.aws/config max_attempts; default 3), like the credentials.
    config = Config(connect_timeout=10, read_timeout=60, retries={"mode": "standard"},
                    max_pool_connections=S3_READ_THREADS,  # one connection per parallel read
                    s3={"addressing_style": settings.evidence_s3_addressing_style})
    # A session per client: boto3's default session is shared process state and not thread-safe.
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=settings.evidence_s3_endpoint_url or None,
                          region_name=settings.evidence_s3_region or None, config=config)


def normalized_prefix(prefix: str) -> str:
    """`evidence` and `/evidence/` both become `evidence/`; empty stays empty (objects at the bucket's root)."""
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def _endpoint_for_people(endpoint_url: str | None) -> str:
    """scheme://host[:port] of a custom endpoint, without any user:password it might carry."""
    if not endpoint_url:
        return ""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _safe_code(code: str) -> str:
    # An error code is a short word the server chose; keep only that shape in a message staff may see.
    return "".join(c for c in code if c.isalnum() or c in ".-_")[:60] or "no code"
