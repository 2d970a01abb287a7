"""OTLP/HTTP logs: `POST /v1/logs`, as OpenTelemetry's exporters and Collector send them."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["otlp"])
