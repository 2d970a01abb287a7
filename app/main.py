"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import Scope

import app
from app.api.guards import RequestGuard
from app.api.limits import BodyLimit
from app.api.openapi import install_openapi
from app.api.routes import (
    analysis,
    early_stopping,
    exports,
    health,
    jobs,
    leases,
    logs,
    metrics,
    otlp,
    parse,
    presets,
    reparse,
    runs,
    webhooks,
)
from app.auth import load_tokens
from app.aws import endpoint as aws_endpoint
from app.aws.endpoint import parse_credentials
from app.cloudwatch.face import cloudwatch_face
from app.cloudwatch.operations import CloudWatchOperations
from app.cloudwatch_logs.face import logs_face
from app.cloudwatch_logs.operations import LogsOperations
from app.config import Settings
from app.errors import (
    ChunkTooLarge,
    Conflict,
    Forbidden,
    InvalidInput,
    LogmetricsError,
    NotFound,
    Unauthenticated,
)
from app.ingest import Ingestor
from app.intake import Intake
from app.parsing import ParserLimits
from app.presets import DEFAULT_PRESETS_DIR, load_presets
from app.reparse import Reparser
from app.sagemaker.face import sagemaker_face
from app.sagemaker.operations import SageMakerOperations
from app.storage import create_storage
from app.telemetry import RequestTimer, Telemetry
from app.tuning.reaper import LeaseReaper
from app.tuning.tuner import Tuner
from app.web import install as install_dashboard
from app.webhooks.delivery import DeliveryPolicy
from app.webhooks.dispatcher import Dispatcher
from app.workpool import WorkPool

__all__ = ["STATUS_BY_ERROR", "create_app"]

log = logging.getLogger("logmetrics")

# The one place domain errors become HTTP statuses.
STATUS_BY_ERROR: dict[type[LogmetricsError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    ChunkTooLarge: 413,
    Unauthenticated: 401,
    Forbidden: 403,
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service: storage, ingest and routes, from `settings` or the environment."""
    settings = settings or Settings()
    storage = create_storage(
        settings.database_url,
        rejections_kept=settings.rejections_kept,
        sqlite_synchronous=settings.sqlite_synchronous,
        auto_upgrade=settings.auto_upgrade,
    )
    limits = ParserLimits(
        max_line_bytes=settings.max_line_bytes,
        regex_timeout=settings.regex_timeout_ms / 1000,
        timeouts_per_chunk=settings.regex_timeouts_per_chunk,
        rejections_kept=settings.rejections_kept,
        cpu_floor=settings.regex_cpu_floor_ms / 1000,
        cpu_per_kib=settings.regex_cpu_ms_per_kib / 1000,
    )

    ingest_pool = WorkPool("ingest", settings.ingest_threads)
    parse_pool = WorkPool("parse", settings.parse_threads)
    ingestor = Ingestor(storage, limits, settings.scanner)
    tuner = Tuner(storage, ingestor, settings.lease_seconds)
    reparser = Reparser(storage, ingestor)
    dispatcher = Dispatcher(
        storage,
        DeliveryPolicy(
            timeout=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
            backoff=settings.webhook_backoff_seconds,
            allow_loopback=settings.webhook_allow_loopback,
            public_url=settings.public_url,
        ),
        interval=min(1.0, settings.webhook_backoff_seconds),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        reaper = LeaseReaper(tuner, interval=min(10.0, max(0.2, settings.lease_seconds / 4)))
        reaper.start()
        reparser.start()
        dispatcher.start()
        yield
        dispatcher.stop()
        reparser.stop()
        reaper.stop()
        ingest_pool.close()
        parse_pool.close()
        storage.close()

    api = FastAPI(
        title="logmetrics",
        version=app.__version__,
        summary="Training logs in, metrics and the best run of a tuning job out.",
        lifespan=lifespan,
        # An API answers the path it is asked; a redirect to a slashed twin (which
        # `{metric:path}` would offer) only surprises clients.
        redirect_slashes=False,
        # /docs is served by the dashboard from vendored files; ReDoc would need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    api.state.settings = settings
    api.state.storage = storage
    api.state.ingest_pool = ingest_pool
    api.state.parse_pool = parse_pool
    api.state.ingestor = ingestor
    api.state.tuner = tuner
    api.state.reparser = reparser
    telemetry = Telemetry(storage, {"ingest": ingest_pool, "parse": parse_pool})
    api.state.telemetry = telemetry
    intake = Intake(storage, ingestor, tuner, telemetry)
    api.state.intake = intake
    parse_credentials(settings.aws_credentials)  # a malformed setting fails at start
    api.state.aws_faces = {
        face.target: face
        for face in (
            sagemaker_face(SageMakerOperations(storage, tuner, settings.aws_account_id)),
            logs_face(LogsOperations(storage, intake, settings.aws_account_id)),
            cloudwatch_face(CloudWatchOperations(storage, settings.aws_account_id)),
        )
    }
    api.state.presets = load_presets(settings.presets_dir or DEFAULT_PRESETS_DIR)
    api.state.tokens = load_tokens(settings.api_tokens, settings.token_file)
    for module in (
        health,
        jobs,
        reparse,
        runs,
        logs,
        otlp,
        leases,
        metrics,
        exports,
        parse,
        presets,
        analysis,
        early_stopping,
        webhooks,
    ):
        api.include_router(module.router)
    api.include_router(aws_endpoint.router)
    install_dashboard(api)
    install_openapi(api)
    _add_error_handlers(api)
    api.add_middleware(BodyLimit, limit=settings.max_request_bytes, exempt=_is_log_chunk)
    api.add_middleware(RequestTimer, telemetry=telemetry)
    # Added last, so it runs first: a refused host or origin costs nothing else.
    api.add_middleware(
        RequestGuard,
        allowed_hosts=settings.allowed_hosts.split(","),
        allowed_origins=settings.allowed_origins.split(","),
    )
    return api


def _location(parts: Sequence[object]) -> str:
    # "definitions" and "preset" tag the branch of a union pydantic took: not a place.
    return ".".join(str(part) for part in parts if part not in ("definitions", "preset"))


def _allowed_methods(request: Request) -> set[str]:
    # Starlette's 405 names the methods of the first route on the path only; a path
    # served by several routes (GET and POST /v1/jobs) supports all of theirs.
    routes = request.app.router.routes
    return {
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    }


def _is_log_chunk(scope: Scope) -> bool:
    # Log chunks have their own, larger limit (max_chunk_bytes), checked by their route.
    return scope["method"] == "POST" and str(scope["path"]).endswith("/logs")


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(LogmetricsError)
    async def domain_error(_request: Request, exc: LogmetricsError) -> JSONResponse:
        status = next(STATUS_BY_ERROR[c] for c in type(exc).__mro__ if c in STATUS_BY_ERROR)
        challenge = {"WWW-Authenticate": 'Bearer realm="logmetrics"'} if status == 401 else None
        return JSONResponse(
            {"error": exc.code, "message": exc.message, **exc.extra},
            status_code=status,
            headers=challenge,
        )

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"location": _location(error["loc"]), "message": error["msg"]} for error in exc.errors()
        ]
        message = "; ".join(f"{d['location']}: {d['message']}" for d in details)
        return JSONResponse(
            {"error": "invalid_request", "message": message, "details": details},
            status_code=422,
        )

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a JSON body that is not UTF-8: the same error, and
            # status, as a body that is not JSON.
            message = "body: not JSON text (JSON is UTF-8)"
            return JSONResponse(
                {"error": "invalid_request", "message": message, "details": []},
                status_code=422,
            )
        headers = exc.headers
        if exc.status_code == 405:
            headers = {"Allow": ", ".join(sorted(_allowed_methods(request)))}
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=headers,
        )

    @api.exception_handler(ClientDisconnect)
    async def client_gone(_request: Request, _exc: ClientDisconnect) -> Response:
        # The client closed the connection before its body arrived: nothing was stored,
        # nobody reads an answer, and it is no fault of the service to log.
        return Response(status_code=400)

    @api.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": "internal", "message": "internal error; the service log has the details"},
            status_code=500,
        )
