"""The SQL schema: jobs, their runs, each run's streams, metrics, points and raw chunks,
and the tags of jobs and runs.

The one description of the tables; a database gets them through the migrations in
`app.storage.migrations`, one revision per change made here.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "chunks",
    "job_definitions",
    "job_tags",
    "jobs",
    "metadata",
    "points",
    "run_attempts",
    "run_metrics",
    "run_tags",
    "runs",
    "streams",
    "webhook_deliveries",
    "webhooks",
]

metadata = MetaData()

# Times are seconds since the epoch (UTC) as floats: compact, exact to the microsecond,
# and ordered the same on every backend.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("objective_metric", String(255), nullable=False),
    Column("objective_type", String(16), nullable=False),
    Column("objective_strategy", String(16), nullable=False),
    Column("log_format", String(16), nullable=False),
    Column("metric_definitions", JSON, nullable=False),  # [[name, regex(, log_format)], ...]
    Column("environment", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    # The search the service runs for the job (app.protocol.search), or NULL for a job that
    # only watches runs started elsewhere.
    Column("search", JSON),
    # The job's status (InProgress, Completed, Failed, Stopping, Stopped) changes; the
    # columns above never do.
    Column("status", String(16), nullable=False, server_default="InProgress"),
    Column("status_reason", Text),
    Column("completion_criterion", String(64)),  # what ended the search, AMT's name
    Column("completion_detail", Text),
    Column("completed_at", Float),  # when the criterion was met
    Column("ended_at", Float),
    # A re-parse replaces the objective and definitions above and counts up; the ones
    # replaced go to `job_definitions`.
    Column("definitions_version", Integer, nullable=False, server_default="1"),
)

# The definitions (and objective) a job had before each re-parse, by the version they were.
job_definitions = Table(
    "job_definitions",
    metadata,
    Column("job_id", ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("objective_metric", String(255), nullable=False),
    Column("objective_type", String(16), nullable=False),
    Column("objective_strategy", String(16), nullable=False),
    Column("metric_definitions", JSON, nullable=False),
    Column("replaced_at", Float, nullable=False),
    sqlite_with_rowid=False,
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(63), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failure_reason", Text),
    Column("created_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("hyperparameters", JSON, nullable=False),
    # Kept up to date as points arrive, so that `best` and the leaderboard read an index
    # instead of scanning points.
    Column("objective_value", Float),
    Column("ingest_token_hash", String(64)),  # SHA-256 of the run's token, if any
    # Runs a search started: their index in the search (0, 1, ...), the worker holding
    # the lease, and when the lease lapses without a heartbeat.
    Column("search_index", Integer),
    Column("worker", String(255)),
    Column("lease_expires_at", Float),
    # Set when the service asks for the run to stop (early stopping, a stopped job): why,
    # and which of those (`stop_cause`); the run ends Stopped with this reason.
    Column("stop_reason", Text),
    Column("stop_cause", String(32)),
    # The GPUs the run held on its worker, as its heartbeats said (a list of the worker's
    # names for them); NULL where the worker did not count GPUs.
    Column("gpus", JSON),
    # Its attempt (1, then one more each time a failure of the infrastructure is tried
    # again, AMT's RetryStrategy) and when a worker was given it (NULL: at creation, or
    # not yet given); a run whose search index is set, in progress and given to no worker
    # waits to be leased again.
    Column("attempt", Integer, nullable=False, server_default="1"),
    Column("attempt_started_at", Float),
    # The worker's id of the lease request that gave it the run: the request sent again,
    # its answer lost, gets the same run rather than another.
    Column("lease_request", String(64)),
    # The job's definitions version the run's points were parsed with; lower than the
    # job's while a re-parse has yet to reach the run.
    Column("definitions_version", Integer, nullable=False, server_default="1"),
    UniqueConstraint("job_id", "name"),
    Index("runs_by_objective", "job_id", "objective_value"),
    Index("runs_by_creation", "job_id", "created_at"),
    Index("runs_by_lease", "lease_expires_at"),
    Index("runs_by_lease_request", "lease_request"),
)

streams = Table(
    "streams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("next_offset", BigInteger, nullable=False),
    Column("lines", BigInteger, nullable=False),
    Column("partial", LargeBinary, nullable=False),
    Column("partial_length", BigInteger, nullable=False),
    Column("skip_lf", Boolean, nullable=False),
    # When the held partial line last got bytes: its points' time if the run ends first.
    Column("partial_timestamp", Float),
    UniqueConstraint("run_id", "name"),
)

run_metrics = Table(
    "run_metrics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("last", Float),
    Column("last_step", BigInteger),
    Column("last_timestamp", Float),
    Column("min", Float),
    Column("max", Float),
    Column("rejected", BigInteger, nullable=False),
    Column("timeouts", BigInteger, nullable=False),
    Column("examples", JSON, nullable=False),  # the latest rejections, newest last
    UniqueConstraint("run_id", "name"),
)

points = Table(
    "points",
    metadata,
    Column("run_metric_id", ForeignKey("run_metrics.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("step", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("stream_id", ForeignKey("streams.id", ondelete="CASCADE"), nullable=False),
    Column("line", BigInteger, nullable=False),
    Column("offset", BigInteger, nullable=False),
    # A series is read in `seq` order: clustering by the key makes that one range scan.
    sqlite_with_rowid=False,
)

chunks = Table(
    "chunks",
    metadata,
    Column("stream_id", ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True),
    Column("offset", BigInteger, primary_key=True, autoincrement=False),
    Column("length", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),  # zstd-compressed raw bytes
    # The time the chunk's points were given (NULL for chunks stored before 0004).
    Column("timestamp", Float),
    # A shipper's chunk's digest, its bytes and time (PutLogEvents, OTLP): a retry of its
    # batch finds it and stores nothing (NULL for /v1's chunks and those before 0007).
    Column("digest", LargeBinary),
    Index("chunks_by_digest", "stream_id", "digest", unique=True),
    sqlite_with_rowid=False,
)

# A run's earlier attempts, each ended by a failure of the infrastructure and tried again:
# its worker, when it began and ended, and why.
run_attempts = Table(
    "run_attempts",
    metadata,
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("worker", String(255)),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float, nullable=False),
    Column("reason", Text, nullable=False),
    sqlite_with_rowid=False,
)

# Tags (SageMaker's AddTags): a job's, and a run's. Two tables rather than one with a
# nullable run: the key is then each table's primary key, unique as SageMaker's tag keys
# are on a resource, and each tag goes with what it is attached to (ON DELETE CASCADE).
# `position` keeps the order tags were first added in, which ListTags answers.
job_tags = Table(
    "job_tags",
    metadata,
    Column("job_id", ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("position", Integer, nullable=False),
    sqlite_with_rowid=False,
)

run_tags = Table(
    "run_tags",
    metadata,
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("position", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# A job's webhooks (issue 29): where it calls on its events. `public_id` is the id the API
# shows; `secret` signs the bodies (HMAC-SHA256) and is never read back out.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("job_id", ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),  # [event name, ...]
    Column("format", String(16), nullable=False),
    Column("secret", Text),
    Column("position", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("webhooks_by_job", "job_id", "position"),
)

# The outbox: each event to deliver to each webhook, recorded when it happens, once per
# webhook and `event_key` (the unique key: two processes recording one event store one
# row), then claimed by a process's dispatcher until `claimed_until` and tried until
# delivered or out of attempts.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("webhook_id", ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("event_key", String(320), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("last_attempt_at", Float),
    Column("next_attempt_at", Float),  # when due (NULL once delivered or failed)
    Column("claim", String(32)),
    Column("claimed_until", Float),
    UniqueConstraint("webhook_id", "event_key"),
    Index("webhook_deliveries_due", "next_attempt_at"),
    Index("webhook_deliveries_by_webhook", "webhook_id", "created_at"),
)
