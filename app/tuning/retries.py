"""How often a search's run is tried again after a failure of the infrastructure, as AMT's
`RetryStrategy.MaximumRetryAttempts` says: the worker lost (no heartbeat for a lease), its
launch failed, or its worker stopped; never a failure of the training code itself.

A run tried again keeps its name, search index and hyperparameters: it is the same
training job, in a new attempt (`Run.attempt`), leased to any worker before the search
starts another run; its earlier attempts are listed with it (`Run.attempts`), their logs
kept as `attempt-<n>/<stream>`, their points not the run's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.protocol.search import SearchSpec
from app.records import Run

__all__ = ["may_retry", "retries_allowed"]


def retries_allowed(search: SearchSpec) -> int:
    """The search's `retry_strategy.maximum_retry_attempts`, else a SageMaker training job
    definition's RetryStrategy.MaximumRetryAttempts, else 0."""
    if search.retry_strategy is not None:
        return search.retry_strategy.maximum_retry_attempts
    definition = _mapping((search.sagemaker or {}).get("TrainingJobDefinition"))
    attempts = _mapping(definition.get("RetryStrategy")).get("MaximumRetryAttempts")
    return attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else 0


def may_retry(search: SearchSpec | None, run: Run) -> bool:
    """Whether a failure of the infrastructure in the run's current attempt is tried
    again: a search's run, short of its attempts, and not asked to stop."""
    if search is None or run.search_index is None or run.stop_reason is not None:
        return False
    return run.attempt <= retries_allowed(search)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
