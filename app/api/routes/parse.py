from __future__ import annotations

from fastapi import APIRouter

from app.api import schemas
from app.api.deps import CanRead, IngestorDep, ParsePoolDep, PresetsDep, SettingsDep
from app.errors import ChunkTooLarge
from app.parsing import parse_log

router = APIRouter(prefix="/v1/parse", tags=["parse"], dependencies=[CanRead])


@router.post("", responses=schemas.error_responses(413, 422))
async def create_parse(
    body: schemas.ParseCreate,
    settings: SettingsDep,
    ingestor: IngestorDep,
    presets: PresetsDep,
    pool: ParsePoolDep,
) -> schemas.ParsePublic:
    """Dry run: the points and rejected captures each definition finds in a log."""
    log = body.log.encode()  # lone surrogates became U+FFFD in the schema
    if len(log) > settings.max_parse_bytes:
        raise ChunkTooLarge(settings.max_parse_bytes)
    definitions = schemas.definitions_of(body.metric_definitions, presets)
    parsed = await pool.run(parse_log, definitions, log, body.log_format, ingestor.limits)
    return schemas.ParsePublic(
        lines=parsed.lines,
        points=[
            schemas.ParsedPointPublic(
                metric_name=p.metric,
                value=p.value,
                step=_numbered(p.step),
                line=p.line,
                span=span,
            )
            for p, span in zip(parsed.points, parsed.point_spans, strict=True)
        ],
        rejections=[
            schemas.ParsedRejectionPublic(
                metric_name=r.metric, line=r.line, capture=r.capture, reason=r.reason, span=span
            )
            for r, span in zip(parsed.rejections, parsed.rejection_spans, strict=True)
        ],
        texts=list(parsed.texts),
        definitions=[
            schemas.ParsedDefinitionPublic(
                metric_name=name,
                log_format=report.rendering,
                log_format_reason=report.rendering_reason,
                hint=report.hint,
                matched_by=report.matched_by,
            )
            for name, report in parsed.definitions.items()
        ],
    )


def _numbered(step: int | None) -> int:
    assert step is not None, "parse_log numbers every point"
    return step
