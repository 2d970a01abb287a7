"""What a lease says of its run's SageMaker training job, as the worker reads it.

The service sends it in the lease (`LeasePublic`); a service older than these fields
sends only `channels`, the `file://` ones by name, which are read as File-mode S3Prefix
channels. A job made through `/v1` has none of it: no channels, no output path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CHECKPOINTS_IN_CONTAINER",
    "CheckpointConfig",
    "InputChannel",
    "TrainingJob",
    "Unrunnable",
    "channel_name_problem",
]

# A SageMaker ChannelName ([A-Za-z0-9.-_]+): it becomes a folder of /opt/ml/input/data,
# a mount point, `docker run -v` text and part of a variable's name, so nothing else may
# reach the disk, `mount`, docker or the environment, whatever the API in front let through.
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Where a container sees its checkpoints unless CheckpointConfig.LocalPath says otherwise.
CHECKPOINTS_IN_CONTAINER = "/opt/ml/checkpoints"


def channel_name_problem(name: str) -> str | None:
    """Why `name` may not be an input channel's folder (a sentence, the failure reason),
    or None when it is a SageMaker ChannelName other than `.` and `..`."""
    if _CHANNEL_NAME.fullmatch(name) and name not in (".", ".."):
        return None
    return f"input channel name {name[:80]!r} is not a SageMaker ChannelName"


class Unrunnable(Exception):
    """The worker cannot run this training job; the message is its failure reason."""


@dataclass(frozen=True)
class InputChannel:
    """An input channel: `uri` an `s3://` prefix or object, or a `file://` URL.

    `input_mode` is the channel's (or the job's) TrainingInputMode as given; this worker
    delivers every channel as File mode does, Pipe and FastFile included, since a program
    that reads its channel's folder works in all three."""

    name: str
    uri: str
    data_type: str = "S3Prefix"
    content_type: str | None = None
    compression_type: str | None = None
    input_mode: str = "File"

    def config(self) -> dict[str, str]:
        """Its entry in inputdataconfig.json, as SageMaker writes it."""
        entry = {
            "TrainingInputMode": self.input_mode,
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
        if self.content_type is not None:
            entry["ContentType"] = self.content_type
        if self.compression_type is not None:
            entry["CompressionType"] = self.compression_type
        return entry


@dataclass(frozen=True)
class CheckpointConfig:
    """`uri`: the S3 prefix a run's checkpoints are read from before and written to after;
    `local_path`: where a container sees them (default /opt/ml/checkpoints)."""

    uri: str
    local_path: str = CHECKPOINTS_IN_CONTAINER


@dataclass(frozen=True)
class TrainingJob:
    """The run's training job: `name` is the run's, as SageMaker names a tuning job's
    training jobs; `output_path` the OutputDataConfig's S3OutputPath, or None."""

    name: str
    channels: tuple[InputChannel, ...] = ()
    output_path: str | None = None
    checkpoint: CheckpointConfig | None = None
    container_entrypoint: tuple[str, ...] | None = None
    container_arguments: tuple[str, ...] | None = None
    instance_type: str | None = None
    instance_count: int = 1
    network_isolation: bool = False
    # The GPUs the worker gave the run (`logmetrics worker --gpus`); None where the worker
    # does not count GPUs (the program then sees every GPU of the machine).
    gpus: tuple[str, ...] | None = None

    @classmethod
    def from_lease(cls, lease: Mapping[str, Any]) -> TrainingJob:
        """Read from a lease as `POST /v1/leases` answers it (any version)."""
        if "input_channels" in lease:
            channels = tuple(
                InputChannel(
                    name=channel["name"],
                    uri=channel["uri"],
                    data_type=channel.get("data_type") or "S3Prefix",
                    content_type=channel.get("content_type"),
                    compression_type=channel.get("compression_type"),
                    input_mode=channel.get("input_mode") or "File",
                )
                for channel in lease["input_channels"]
            )
        else:
            channels = tuple(
                InputChannel(name, uri) for name, uri in sorted(lease.get("channels", {}).items())
            )
        checkpoint = lease.get("checkpoint")
        entrypoint, arguments = lease.get("container_entrypoint"), lease.get("container_arguments")
        return cls(
            name=lease["run"],
            channels=channels,
            output_path=lease.get("output_path"),
            checkpoint=(
                CheckpointConfig(
                    checkpoint["uri"], checkpoint.get("local_path") or CHECKPOINTS_IN_CONTAINER
                )
                if checkpoint
                else None
            ),
            container_entrypoint=tuple(entrypoint) if entrypoint is not None else None,
            container_arguments=tuple(arguments) if arguments is not None else None,
            instance_type=lease.get("instance_type"),
            instance_count=lease.get("instance_count") or 1,
            network_isolation=bool(lease.get("network_isolation")),
        )
