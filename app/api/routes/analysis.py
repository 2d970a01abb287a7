"""A job's search at a glance, as JSON: its history, parallel coordinates and the importance
of its hyperparameters (what the job page draws, for notebooks and scripts too)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CanRead

router = APIRouter(prefix="/v1/jobs/{job}", tags=["analysis"], dependencies=[CanRead])
