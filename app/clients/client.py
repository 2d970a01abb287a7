"""A small typed client for the service's HTTP API, used by the shipper and the sweep.

Two kinds of failure are kept apart: `ServiceUnavailable` (the service could not be
reached or answered 5xx: worth retrying) and `ServiceError` (it answered 4xx: the
request itself is wrong, and sending it again will not help).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx

__all__ = ["ServiceClient", "ServiceError", "ServiceUnavailable"]

DEFAULT_URL = "http://127.0.0.1:8000"


class ServiceUnavailable(Exception):
    """The service did not answer, or answered with a server error."""


class ServiceError(Exception):
    """The service refused the request (4xx); `body` is its JSON error."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body.get('message', body)}")
        self.status = status
        self.body = body


class ServiceClient:
    def __init__(self, url: str = DEFAULT_URL, timeout: float = 30.0, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._token = token
        self._http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)
        # The run's attempt a worker's per-run client says it runs (`with_token`).
        self._attempt: int | None = None

    def close(self) -> None:
        self._http.close()

    def with_token(self, token: str | None, attempt: int | None = None) -> ServiceClient:
        """A client for the same service that authenticates with `token` (None: this
        client's), and says in its heartbeats and run ends that it runs `attempt` of the
        run (None: says nothing), so that a stale attempt's are refused."""
        client = ServiceClient(self.url, self._http.timeout.read or 30.0, token or self._token)
        client._attempt = attempt
        return client

    # Jobs and runs.

    def create_job(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/v1/jobs", json=body)

    def get_job(self, job: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/jobs/{job}")

    def create_run(
        self, job: str, name: str | None, hyperparameters: dict[str, str]
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"hyperparameters": hyperparameters}
        if name is not None:
            body["name"] = name
        return self._json("POST", f"/v1/jobs/{job}/runs", json=body)

    def complete_run(
        self,
        job: str,
        run: str,
        status: str,
        failure_reason: str | None = None,
        infrastructure_failure: bool = False,
    ) -> dict[str, Any]:
        """End the run; `infrastructure_failure`: it failed for this machine, not for its
        code (the service then tries it again where the job's retry strategy allows)."""
        body: dict[str, Any] = {"status": status, "failure_reason": failure_reason}
        if infrastructure_failure:
            body["infrastructure_failure"] = True
        if self._attempt is not None:
            body["attempt"] = self._attempt
        return self._json("POST", f"/v1/jobs/{job}/runs/{run}/complete", json=body)

    def post_chunk(
        self, job: str, run: str, stream: str, data: bytes, offset: int
    ) -> dict[str, Any]:
        return self._json(
            "POST",
            f"/v1/jobs/{job}/runs/{run}/logs",
            params={"stream": stream, "offset": offset},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def list_jobs(self) -> dict[str, Any]:
        return self._json("GET", "/v1/jobs")

    def export(self, job: str, what: str, form: str) -> Iterator[bytes]:
        """A job's runs or points as CSV or JSON lines, as the service streams them.

        Raises: ServiceError, ServiceUnavailable.
        """
        path = f"/v1/jobs/{job}/export/{what}"
        try:
            with self._http.stream("GET", path, params={"format": form}) as response:
                if response.status_code >= 500:
                    raise ServiceUnavailable(f"{self.url} answered {response.status_code}")
                if response.status_code >= 400:
                    response.read()
                    raise ServiceError(response.status_code, response.json())
                yield from response.iter_bytes()
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{self.url} did not answer: {exc}") from exc

    def reparse(self, job: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", f"/v1/jobs/{job}/reparse", json=body)

    def reparse_progress(self, job: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/jobs/{job}/reparse")

    def stop_job(self, job: str) -> dict[str, Any]:
        return self._json("POST", f"/v1/jobs/{job}/stop")

    # Workers.

    def lease(
        self,
        worker: str,
        jobs: list[str] | None = None,
        gpus: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """A run to execute, or none (`POST /v1/leases`); `gpus`: what GPUs the worker has
        free, as `GpuSlots.offer` says (None: it does not count them); `request_id`: the
        same for a request sent again after no answer came."""
        body: dict[str, Any] = {"worker": worker, "jobs": jobs}
        if gpus is not None:
            body["gpus"] = gpus
        if request_id is not None:
            body["request_id"] = request_id
        return self._json("POST", "/v1/leases", json=body)

    def heartbeat(
        self, job: str, run: str, worker: str, gpus: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Keep the run's lease; `gpus`: those the worker gave it, if it counts them."""
        body: dict[str, Any] = {"worker": worker}
        if gpus is not None:
            body["gpus"] = list(gpus)
        if self._attempt is not None:
            body["attempt"] = self._attempt
        return self._json("POST", f"/v1/jobs/{job}/runs/{run}/heartbeat", json=body)

    def leaderboard(self, job: str, limit: int = 100) -> dict[str, Any]:
        return self._json("GET", f"/v1/jobs/{job}/runs", params={"limit": limit})

    def best_run(self, job: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/jobs/{job}/best")

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"{self.url} did not answer: {exc}") from exc
        if response.status_code >= 500:
            raise ServiceUnavailable(f"{self.url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise ServiceUnavailable(f"{self.url} answered something that is not JSON") from exc
        if response.status_code >= 400:
            raise ServiceError(response.status_code, body)
        result: dict[str, Any] = body
        return result
