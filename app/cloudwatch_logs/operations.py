"""The CloudWatch Logs operations `POST /` serves, by name (`handlers`): reading here,
writing in `writes`.

Each takes the request's JSON (already checked against botocore's model) and region and
returns the output shape's JSON. Groups and streams are named in `streams`, events read
in `events`, positions carried by `tokens`; refusals are CloudWatch Logs' own (`errors`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from app.aws.face import Handler
from app.cloudwatch_logs.errors import invalid_parameter
from app.cloudwatch_logs.events import LogEvent, StreamLog, milliseconds, read_events
from app.cloudwatch_logs.filter_pattern import parse_filter_pattern
from app.cloudwatch_logs.paging import page_after
from app.cloudwatch_logs.streams import LogStream, Streams
from app.cloudwatch_logs.tokens import Position, decode, encode
from app.cloudwatch_logs.writes import LogsWriter
from app.intake import Intake
from app.storage import Storage

__all__ = ["LogsOperations"]

_DESCRIBE_LIMIT = 50
_EVENTS_LIMIT = 10_000
# FilterLogEvents' places are `<stream>:<source>`: a stream's name never holds a colon.
_PLACE = ":"


class LogsOperations:
    """Every CloudWatch Logs operation served, by name (`handlers`), over one storage;
    events written are taken in by `intake`."""

    def __init__(self, storage: Storage, intake: Intake, account: str) -> None:
        self._storage = storage
        self._intake = intake
        self._streams = Streams(storage)
        self._account = account
        writer = LogsWriter(storage, intake, self._streams)
        self.handlers: dict[str, Handler] = {
            "DescribeLogGroups": self.describe_log_groups,
            "DescribeLogStreams": self.describe_log_streams,
            "GetLogEvents": self.get_log_events,
            "FilterLogEvents": self.filter_log_events,
            "CreateLogGroup": writer.create_log_group,
            "CreateLogStream": writer.create_log_stream,
            "PutLogEvents": writer.put_log_events,
        }

    def describe_log_groups(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        prefix = body.get("logGroupNamePrefix", "")
        pattern = body.get("logGroupNamePattern", "").lower()
        if prefix and "logGroupNamePattern" in body:
            raise invalid_parameter(
                "logGroupNamePrefix and logGroupNamePattern cannot both be given."
            )
        named = {_group({"logGroupIdentifier": i}) for i in body.get("logGroupIdentifiers", ())}
        groups = [
            group
            for group in self._streams.groups()
            if group.name.startswith(prefix)
            and pattern in group.name.lower()
            and (not named or group.name in named)
            # Every group here is of the STANDARD class.
            and body.get("logGroupClass", "STANDARD") == "STANDARD"
        ]
        chosen, following = page_after(
            groups,
            lambda group: (group.name,),
            body.get("nextToken"),
            body.get("limit", _DESCRIBE_LIMIT),
        )
        answer: dict[str, Any] = {
            "logGroups": [
                {
                    "logGroupName": group.name,
                    "creationTime": milliseconds(group.created_at) if group.created_at else 0,
                    "metricFilterCount": 0,
                    "arn": self._group_arn(region, group.name) + ":*",
                    "logGroupArn": self._group_arn(region, group.name),
                    "logGroupClass": "STANDARD",
                }
                for group in chosen
            ]
        }
        if following:
            answer["nextToken"] = following
        return answer

    def describe_log_streams(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        group = _group(body)
        prefix = body.get("logStreamNamePrefix", "")
        by_time = body.get("orderBy", "LogStreamName") == "LastEventTime"
        if by_time and prefix:
            raise invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = self._streams.streams(group, prefix)
        limit = body.get("limit", _DESCRIBE_LIMIT)
        descending = bool(body.get("descending", False))
        token = body.get("nextToken")
        if by_time:
            logs = [self._read(stream) for stream in streams]
            chosen_logs, following = page_after(
                logs,
                lambda log: (_last_time(log), log.stream.name),
                token,
                limit,
                descending,
            )
        else:
            chosen, following = page_after(
                streams, lambda stream: (stream.name,), token, limit, descending
            )
            chosen_logs = [self._read(stream) for stream in chosen]
        answer: dict[str, Any] = {
            "logStreams": [self._described(log, region) for log in chosen_logs]
        }
        if following:
            answer["nextToken"] = following
        return answer

    def get_log_events(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        stream = self._streams.stream(_group(body), body["logStreamName"])
        log = self._read(stream)
        starts = _starts(log, _same)
        limit = body.get("limit", _EVENTS_LIMIT)
        events = _in_time(log.events, body.get("startTime"), body.get("endTime"), inclusive=False)
        token = decode(body["nextToken"], "fb", starts) if "nextToken" in body else None
        forward = token.direction == "f" if token is not None else body.get("startFromHead", False)
        position: Position
        if forward:
            position = token.position if token is not None else {}
            after = [event for event in events if event.offset >= position.get(event.source, 0)]
            chosen = after[:limit]
        else:
            # From the end back (CloudWatch's default), or back from a backward token.
            position = token.position if token is not None else dict(log.ends)
            before = [event for event in events if event.offset < position.get(event.source, 0)]
            chosen = before[-limit:] if limit < len(before) else before
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.timestamp}
                for e in chosen
            ],
            "nextForwardToken": encode("f", _after(chosen, position, _same)),
            "nextBackwardToken": encode("b", _first(chosen, position, _same)),
        }

    def filter_log_events(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        group = _group(body)
        pattern = parse_filter_pattern(body.get("filterPattern", ""))
        if "logStreamNames" in body and "logStreamNamePrefix" in body:
            raise invalid_parameter("logStreamNames and logStreamNamePrefix cannot both be given.")
        if "logStreamNames" in body:
            streams = self._streams.streams_named(group, body["logStreamNames"])
        else:
            streams = self._streams.streams(group, body.get("logStreamNamePrefix", ""))
        logs = [self._read(stream) for stream in streams]
        starts: dict[str, set[int]] = {}
        for log in logs:
            starts.update(_starts(log, functools.partial(_place, log.stream)))
        position = decode(body["nextToken"], "n", starts).position if "nextToken" in body else {}
        matching = sorted(
            (event.timestamp, log.stream.name, event.source, event.offset, event)
            for log in logs
            for event in _in_time(
                log.events, body.get("startTime"), body.get("endTime"), inclusive=True
            )
            if event.offset >= position.get(_place(log.stream, event.source), 0)
            and pattern.matches(event.message)
        )
        limit = body.get("limit", _EVENTS_LIMIT)
        chosen = matching[:limit]
        answer: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": name,
                    "timestamp": event.timestamp,
                    "message": event.message,
                    "ingestionTime": event.timestamp,
                    "eventId": f"{event.timestamp}-{name}-{event.source}-{event.offset}",
                }
                for _time, name, _source, _offset, event in chosen
            ],
            "searchedLogStreams": [
                {"logStreamName": log.stream.name, "searchedCompletely": True} for log in logs
            ],
        }
        if len(matching) > limit:
            following = dict(position)
            for _time, name, source, _offset, event in chosen:
                following[f"{name}{_PLACE}{source}"] = event.next
            answer["nextToken"] = encode("n", following)
        return answer

    def _read(self, stream: LogStream) -> StreamLog:
        return read_events(self._storage, stream)

    def _described(self, log: StreamLog, region: str) -> dict[str, Any]:
        stream = log.stream
        described: dict[str, Any] = {
            "logStreamName": stream.name,
            "creationTime": milliseconds(stream.run.created_at),
            "arn": f"{self._group_arn(region, stream.group)}:log-stream:{stream.name}",
            "storedBytes": sum(log.ends.values()),
        }
        if log.events:
            described["firstEventTimestamp"] = log.events[0].timestamp
            described["lastEventTimestamp"] = log.events[-1].timestamp
            described["lastIngestionTime"] = log.events[-1].timestamp
        return described

    def _group_arn(self, region: str, group: str) -> str:
        return f"arn:aws:logs:{region}:{self._account}:log-group:{group}"


def _group(body: dict[str, Any]) -> str:
    """The request's log group: its logGroupName, or its logGroupIdentifier (a name or
    an ARN). Raises: LogsError if it gives neither or both."""
    name = body.get("logGroupName")
    identifier = body.get("logGroupIdentifier")
    if (name is None) == (identifier is None):
        raise invalid_parameter("Exactly one of logGroupName and logGroupIdentifier is needed.")
    if name is not None:
        return str(name)
    found = str(identifier)
    if found.startswith("arn:"):
        found = found.split(":log-group:", 1)[-1].removesuffix(":*")
    return found


def _same(source: str) -> str:
    """A GetLogEvents position's place: the source alone (the stream is the request's)."""
    return source


def _place(stream: LogStream, source: str) -> str:
    return f"{stream.name}{_PLACE}{source}"


def _starts(log: StreamLog, place: Callable[[str], str]) -> dict[str, set[int]]:
    """Where a position may stand in each of the log's places: a line's start or the end."""
    found: dict[str, set[int]] = {place(source): {end} for source, end in log.ends.items()}
    for event in log.events:
        found[place(event.source)].add(event.offset)
    return found


def _in_time(
    events: Sequence[LogEvent], start: int | None, end: int | None, inclusive: bool
) -> list[LogEvent]:
    """The events from `start` on, and before `end` (up to it, if `inclusive`)."""
    return [
        event
        for event in events
        if (start is None or event.timestamp >= start)
        and (end is None or event.timestamp < end or (inclusive and event.timestamp == end))
    ]


def _after(chosen: Sequence[LogEvent], base: Position, place: Callable[[str], str]) -> Position:
    """The position after the chosen events: past each one's line in its place."""
    found = dict(base)
    for event in chosen:
        found[place(event.source)] = max(found.get(place(event.source), 0), event.next)
    return found


def _first(chosen: Sequence[LogEvent], base: Position, place: Callable[[str], str]) -> Position:
    """The position of the chosen events' first line in each place."""
    found = dict(base)
    for event in reversed(chosen):
        found[place(event.source)] = event.offset
    return found


def _last_time(log: StreamLog) -> int:
    return log.events[-1].timestamp if log.events else 0
