"""Why a run was stopped early: its objective against the median the rule compared it with."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CanRead

router = APIRouter(prefix="/v1/jobs/{job}/runs/{run}", tags=["runs"], dependencies=[CanRead])
