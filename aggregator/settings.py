"""Product settings (pydantic-settings, environment prefix ``AGGREGATOR_``).

All state lives under one data directory: the database, the vault file and the evidence store. Tests
and the demo pass their own directory and nothing is written outside it.

That directory holds names, dates of birth and member ids, so it is the owner's alone: the commands
create it 0700, run with a 0o077 umask (every file the product writes is 0600, every folder 0700,
whatever the shell's umask), and refuse to start on a directory other users can read or write
(`private_data_dir`).
"""

from __future__ import annotations

import os
import stat
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from aggregator.errors import ConfigurationError

PRIVATE_UMASK = 0o077  # files 0600, folders 0700


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGGREGATOR_", extra="ignore")

    data_dir: Path = Field(default_factory=Path.cwd, description="root of all product state")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    snapshots_dir: Path | None = Field(default=None, description="evidence store; default data_dir/snapshots")
    vault_path: Path | None = Field(default=None, description="vault file; default data_dir/vault.json")
    # Scale-out (docs/vault.md, "A vault shared by several machines"): the same encrypted vault in PostgreSQL,
    # so every worker sees the saved sessions and the TOTP codes already used. Unset: the vault file above.
    vault_url: str | None = Field(default=None, description="PostgreSQL URL of a shared vault "
                                                            "(postgresql://user@host:5432/db); default: the vault file")

    carrier_urls: dict[str, str] = Field(
        default_factory=dict, description='portal base URL per carrier slug, JSON: {"ridgeline": "https://..."}'
    )
    search_pause_seconds: dict[str, float] = Field(
        default_factory=dict, description='seconds between two searches of one account, per portal, where the '
                                          'practice\'s agreement with a hub sets another pace than its manifest '
                                          '(JSON: {"crossway": 0.5})'
    )
    daily_search_caps: dict[str, int] = Field(
        default_factory=dict, description='searches per account per day, per portal, below the manifest\'s cap '
                                          '(JSON: {"crossway": 150}); a portal may give a practice a lower one'
    )

    browser_executable: Path | None = Field(default=None, description="Chromium to drive; default auto")
    browser_headless: bool = True
    page_timeout_seconds: float = Field(default=20.0, gt=0)
    navigation_timeout_seconds: float = Field(default=30.0, gt=0)

    # Off only for the sandbox, which imitates maintenance with a fault switch, not with the real hours.
    respect_maintenance_windows: bool = True
    # The overnight run (aggregator/overnight/schedule.py): practice-local times in this IANA zone.
    timezone: str = Field(default="America/New_York", description="the practice's time zone")
    nightly_run_time: str = Field(default="02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                  description="when the nightly run checks the next business day")
    retry_pass_time: str = Field(default="06:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                                 description="when failed-retryable items of the day are tried again")
    business_days: str = Field(default="mon-fri", description="days the practice sees patients (cron style)")
    misfire_grace_minutes: int = Field(default=180, ge=1, description="a missed run still starts this late")
    batch_max_attempts: int = Field(default=4, ge=1, description="tries per item for retryable failures")
    batch_retry_base_seconds: float = Field(default=30.0, gt=0, description="first backoff; doubles per try")
    batch_deadline_minutes: float = Field(default=240.0, gt=0,
                                          description="a run stops waiting for deferred items after this")
    canary_enabled: bool = Field(default=True, description="before the batch, one known lookup per portal account "
                                                           "with a canary member (docs/canary.md)")
    web_host: str = Field(default="127.0.0.1", description="address `aggregator serve` listens on")
    web_port: int = Field(default=8000, ge=0, le=65535)
    web_idle_timeout_minutes: int = Field(default=15, gt=0, description="web sessions end after this long unused")
    web_session_max_hours: int = Field(default=12, gt=0, description="and after this long in any case")
    web_cookie_secure: bool = Field(default=False, description="mark cookies Secure (set when served over HTTPS)")
    web_forwarded_allow_ips: str | None = Field(
        default=None, description="trust X-Forwarded-For/-Proto only from these proxy addresses (comma-separated); "
                                  "default: trust none")
    web_api_token_days: int = Field(default=90, gt=0, description="API tokens expire this many days after they are made")
    web_secret_key_file: Path | None = Field(default=None, description="default data_dir/web-secret.key (made on first start)")
    # Webhooks (aggregator/webhooks/, docs/webhooks.md): signed events POSTed to the URLs an admin registers.
    webhook_max_attempts: int = Field(default=8, ge=1, description="POSTs per event and endpoint before it is failed")
    webhook_retry_base_seconds: float = Field(default=10.0, gt=0, description="wait after the first failed POST; "
                                                                              "doubles per try")
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0, description="longest wait between two tries")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="a receiver must answer within this")
    webhook_poll_seconds: float = Field(default=5.0, gt=0, description="how often the deliverer looks for events "
                                                                       "another process wrote")
    webhook_drain_seconds: float = Field(default=30.0, ge=0, description="`aggregator run` waits at most this "
                                                                         "long for its events to be delivered")
    # The morning e-mail (aggregator/overnight/morning_email.py, docs/morning-email.md): after the retry pass,
    # the day's counts and the items that need a person. Off while `email_to` is empty.
    email_to: str = Field(default="", description="recipients, comma-separated; empty: no e-mail")
    email_from: str = Field(default="aggregator@localhost", description="the From address")
    email_smtp_host: str | None = Field(default=None, description="SMTP server; required when email_to is set")
    email_smtp_port: int = Field(default=587, ge=1, le=65535)
    email_smtp_starttls: bool = Field(default=True, description="upgrade the connection with STARTTLS (required "
                                                                "to send a username and password)")
    email_smtp_username: str | None = Field(default=None, description="SMTP login; none: send without logging in")
    email_smtp_password: SecretStr | None = Field(default=None, description="or email_smtp_password_file")
    email_smtp_password_file: Path | None = Field(default=None, description="a file holding the SMTP password")
    email_smtp_ca_file: Path | None = Field(default=None, description="CA certificates to trust for the SMTP "
                                                                      "server (PEM); default the system's")
    email_smtp_timeout_seconds: float = Field(default=30.0, gt=0, description="per SMTP network operation")
    email_web_base_url: str = Field(default="http://127.0.0.1:8000", description="the web app's address as staff "
                                                                                 "reach it (links in the e-mail)")
    # Metrics and health (aggregator/metrics/, docs/metrics.md): who may scrape /metrics, and what it covers.
    metrics_access: str = Field(default="loopback", pattern="^(loopback|token|open)$",
                                description="loopback: only from 127.0.0.1/::1 (after the trusted-proxy rule of "
                                            "web_forwarded_allow_ips); token: an API token of metrics_token_roles; "
                                            "open: anyone who reaches the port")
    metrics_token_roles: str = Field(default="admin", pattern=r"^(admin|staff|auditor)(,(admin|staff|auditor))*$",
                                     description="roles whose API token may scrape when metrics_access=token")
    metrics_window_hours: float = Field(default=24.0, gt=0, le=24 * 31,
                                        description="the check duration histogram covers lookups asked this recently")
    metrics_batch_dates: int = Field(default=2, ge=1, le=31,
                                     description="batch item counts cover the dates of this many latest runs")

    # Scale-out (aggregator/dispatch/, docs/scale-out.md): the batch's jobs on procrastinate workers sharing a
    # PostgreSQL database; "inline" (the default) keeps everything in the one process, as before.
    dispatch: str = Field(default="inline", pattern="^(inline|queue)$",
                          description="inline: the process that starts a run checks it; queue: `aggregator run` "
                                      "enqueues jobs that `aggregator worker` processes run (PostgreSQL only)")
    worker_concurrency: int = Field(default=4, ge=1, le=64, description="jobs one `aggregator worker` runs at once "
                                                                          "(each on its own portal account)")
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0, description="how often a worker says it is alive")
    worker_stalled_seconds: float = Field(default=60.0, gt=0,
                                          description="a worker silent this long is dead: its jobs run again elsewhere")
    worker_poll_seconds: float = Field(default=5.0, gt=0, description="a worker looks for due jobs (retries, "
                                                                      "stalled jobs) at least this often")
    # Off for a deployment whose runs come from its own scheduler calling `aggregator run` (and for tests that
    # enqueue a day by hand: a worker started inside a due window would start that day's run too).
    queue_scheduled_runs: bool = Field(default=True, description="the workers start the nightly run and the "
                                                                 "retry pass themselves (the `schedule:tick` task)")
    queue_jobs_per_account: int = Field(default=2, ge=1, le=16,
                                        description="jobs the queue holds per portal account at once (1 running, "
                                                    "the rest waiting); the other items wait unassigned and go to "
                                                    "whichever account finishes first")

    # Evidence files (aggregator/evidence_files.py, docs/architecture.md "Evidence chain"): the local directory
    # (snapshots_dir, the default) or an S3-compatible bucket all machines share. The hash chain stays in the
    # database either way. S3 credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID..., ~/.aws,
    # an instance role), never from these settings.
    evidence_store: str = Field(default="directory", pattern="^(directory|s3)$",
                                description="directory: files under snapshots_dir; s3: objects in evidence_s3_bucket")
    evidence_s3_bucket: str | None = Field(default=None, description="the bucket (required when evidence_store=s3)")
    evidence_s3_prefix: str = Field(default="", description="key prefix inside the bucket, e.g. evidence/")
    evidence_s3_endpoint_url: str | None = Field(default=None, description="an S3-compatible server's URL "
                                                                           "(MinIO, Ceph...); default AWS S3")
    evidence_s3_region: str | None = Field(default=None, description="region; default the AWS config chain's")
    evidence_s3_addressing_style: str = Field(default="auto", pattern="^(auto|path|virtual)$",
                                              description="path for most self-hosted servers (bucket in the path)")
    evidence_s3_server_side_encryption: str | None = Field(
        default=None, pattern="^(AES256|aws:kms|aws:kms:dsse)$",
        description="ask the server to encrypt each object (AES256 or aws:kms); default the bucket's own setting")
    evidence_s3_kms_key_id: str | None = Field(default=None, description="the KMS key for aws:kms; default the "
                                                                         "account's S3 key")

    log_format: str = Field(default="console", pattern="^(console|json)$")
    log_level: str = Field(default="INFO")

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'aggregator.db'}"

    @property
    def resolved_snapshots_dir(self) -> Path:
        return (self.snapshots_dir or self.resolved_data_dir / "snapshots").expanduser().resolve()

    @property
    def resolved_vault_path(self) -> Path:
        return (self.vault_path or self.resolved_data_dir / "vault.json").expanduser().resolve()

    @property
    def resolved_web_secret_key_file(self) -> Path:
        return (self.web_secret_key_file or self.resolved_data_dir / "web-secret.key").expanduser().resolve()


class DataDirNotPrivate(ConfigurationError):
    """The data directory can be read or written by other local users: the product will not use it."""


def private_umask() -> int:
    """Make every file and folder this process creates from now on its owner's alone; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def private_data_dir(path: Path, *, what: str = "the data directory") -> Path:
    """Create `path` 0700 when it is missing; refuse it when group or others have any access to it.

    A directory someone else can list or write lets them read the database or swap files under it, so
    the fix (one `chmod`) is the user's decision, never made silently here.
    """
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask of whoever called us
        return path
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise DataDirNotPrivate(f"{what} {path} is not a directory")
    if info.st_mode & 0o077:
        raise DataDirNotPrivate(f"{what} {path} is open to other users "
                                f"(mode {stat.S_IMODE(info.st_mode):04o}): run `chmod 700 {path}`")
    return path


def private_dirs(settings: Settings) -> Settings:
    """The data directory made or checked (`private_data_dir`), and the evidence folder too when
    AGGREGATOR_SNAPSHOTS_DIR puts it elsewhere and it exists (the product creates it 0700 otherwise)."""
    data_dir = private_data_dir(settings.resolved_data_dir)
    snapshots = settings.resolved_snapshots_dir
    if snapshots.exists() and not snapshots.is_relative_to(data_dir):
        private_data_dir(snapshots, what="the evidence folder")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
