"""The service's settings, from arguments or `LOGMETRICS_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

MiB = 1024 * 1024


class Settings(BaseSettings):
    """Built by `create_app`, never at import time, so that tests pass their own."""

    model_config = SettingsConfigDict(env_prefix="LOGMETRICS_", extra="ignore")

    database_url: str = Field(
        "sqlite:///data/logmetrics.db",
        description="SQLAlchemy URL; SQLite files are created with their folder.",
    )
    auto_upgrade: bool = Field(
        True,
        description="Migrate the database's schema at start; false: refuse an out-of-date "
        "one and say to run `logmetrics db upgrade`.",
    )
    max_chunk_bytes: int = Field(16 * MiB, gt=0, description="Largest log chunk a POST may carry.")
    max_otlp_bytes: int = Field(
        4 * MiB,
        gt=0,
        description="Largest OTLP logs request (POST /v1/logs), sent or once inflated: each of "
        "its messages costs memory to decode, however few bytes it takes.",
    )
    max_line_bytes: int = Field(
        64 * 1024, gt=0, description="A longer line is matched on its first this many bytes."
    )
    regex_timeout_ms: float = Field(
        5.0, gt=0, description="Time one regex may search one line before the line is skipped."
    )
    regex_timeouts_per_chunk: int = Field(
        10, gt=0, description="Time-outs after which a definition skips the rest of a chunk."
    )
    regex_cpu_floor_ms: float = Field(
        50.0,
        gt=0,
        description="CPU time one definition may spend on any chunk, before the per-KiB part.",
    )
    regex_cpu_ms_per_kib: float = Field(
        1.0,
        ge=0,
        description="CPU time one definition may spend per KiB of a chunk, above the floor.",
    )
    allowed_hosts: str = Field(
        "localhost,127.0.0.1,[::1]",
        description="Host names the service answers to, comma-separated; `*` for any "
        "(`logmetrics serve` on a non-loopback address makes `*` the default).",
    )
    allowed_origins: str = Field(
        "",
        description="Browser origins besides the service's own that may write, "
        "comma-separated (e.g. https://dashboards.example.com).",
    )
    secure_cookies: bool = Field(
        False,
        description="Mark the dashboard's sign-in cookie Secure always: for a TLS proxy "
        "that does not send X-Forwarded-Proto.",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies whose X-Forwarded-Proto and X-Forwarded-For are believed "
        "(comma-separated addresses, or `*`); uvicorn's forwarded_allow_ips.",
    )
    ingest_threads: int = Field(
        16, gt=0, description="Log chunks parsed and stored at once; the others wait their turn."
    )
    parse_threads: int = Field(
        2, gt=0, description="Dry runs (`POST /v1/parse`) at once; the others wait their turn."
    )
    max_request_bytes: int = Field(
        10 * MiB, gt=0, description="Largest body of a request other than a log chunk."
    )
    aws_credentials: str | None = Field(
        None,
        description="SageMaker's API (POST /) with access control on: "
        "role:ACCESS_KEY_ID:SECRET entries (role admin or read), comma-separated; requests "
        "must be SigV4-signed with one.",
    )
    aws_account_id: str = Field(
        "123456789012",
        pattern=r"^[0-9]{12}$",
        description="The account in the ARNs SageMaker's API answers with.",
    )
    lease_seconds: float = Field(
        60.0,
        gt=0,
        le=86_400,
        description="How long a worker's run lives without a heartbeat; then it ends Failed "
        "(worker lost). Workers beat every quarter of it.",
    )
    rejections_kept: int = Field(
        5, ge=0, description="Rejected captures kept as examples per run and metric."
    )
    max_parse_bytes: int = Field(4 * MiB, gt=0, description="Largest log `POST /v1/parse` takes.")
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        "FULL", description="FULL: an acknowledged chunk survives power loss, not only a crash."
    )
    api_tokens: str | None = Field(
        None,
        description="Turns access control on: admin:TOKEN and read:TOKEN, comma-separated.",
    )
    token_file: Path | None = Field(
        None, description="Turns access control on: a file of role:token lines."
    )
    presets_dir: Path | None = Field(
        None,
        description="Folder of metric-definition presets (default: those shipped inside "
        "the package).",
    )
    scanner: Literal["auto", "hyperscan", "find", "regex", "none"] = Field(
        "auto",
        description="How the parser picks candidate lines: `hyperscan`, `find` (bytes.find "
        "per literal), `auto` (hyperscan where it runs), `none` (every line); `regex` is the "
        "old name of `find`, taken for one release.",
    )
    public_url: str | None = Field(
        None,
        description="The service's URL as its users reach it (e.g. https://metrics.example.com): "
        "webhooks link to the job's page under it; without it they carry no link.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="How long a webhook's receiver has to answer."
    )
    webhook_max_attempts: int = Field(
        8,
        ge=1,
        le=100,
        description="Attempts of a webhook delivery before it is given up as failed.",
    )
    webhook_backoff_seconds: float = Field(
        5.0,
        gt=0,
        description="Wait before a delivery's second attempt; each later one waits twice as "
        "long (at most an hour), less up to half at random so that retries spread.",
    )
    webhook_allow_loopback: bool = Field(
        False,
        description="Let webhooks reach the service's own machine and link-local addresses "
        "(loopback, 169.254.169.254): for tests and single-machine setups only.",
    )
