"""A job's webhooks: the URLs it calls on its events, and their last deliveries."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/jobs/{job}/webhooks", tags=["webhooks"])
