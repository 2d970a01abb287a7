from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.deps import CanRead
from app.telemetry import CONTENT_TYPE, Telemetry

router = APIRouter(tags=["health"])


@router.get("/healthz")
def read_health() -> dict[str, str]:
    """Liveness: the service answers."""
    return {"status": "ok"}


@router.get(
    "/metrics",
    dependencies=[CanRead],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
def read_metrics(request: Request) -> Response:
    """The service's metrics in Prometheus' text format."""
    telemetry: Telemetry = request.app.state.telemetry
    return Response(telemetry.render(), media_type=CONTENT_TYPE)
