"""The GPUs a run holds, and whether a worker's free GPUs can place it.

A run of a job wants `GpuNeed`: whole GPUs of its own, or, where the job packs runs
(`runs_per_gpu` > 1), a share of one GPU with other runs of the same job. A worker that
counts its GPUs says what it has free when it asks for work (`GpuOffer`), and the tuner
leases it only a run it can place now; a run no worker that asked can ever place is told
so in its job's status.

A job made through SageMaker's API wants what its ResourceConfig's instance type has, as
`INSTANCE_GPUS` lists it, times its InstanceCount: the training job's instances are one
worker's GPUs here (one host, `algo-1`, with all of them), not several hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.protocol.search import SearchSpec

__all__ = ["INSTANCE_GPUS", "GpuNeed", "GpuOffer", "gpu_need"]

# GPUs of SageMaker's ml.* GPU instance types. From AWS's own figures: the SageMaker
# Python SDK's image_uri_config/instance_gpu_info.json (the source of
# `sagemaker.instance_types_gpu_info`, read for us-east-1; tests/tuning/test_gpus.py
# checks every type both list against it), and for the families it does not list (g5.xlarge,
# g6, g6e, p5e, p5en, p6-b200) the EC2 accelerated computing instance table,
# https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html, whose ml.* twins have the
# same GPUs ("The ml instance types used by SageMaker training have the same number of
# GPUs as the corresponding instance types", SageMaker's distributed training guide).
# Any other type (ml.m5.large, ml.c5.xlarge, ml.trn1.* whose accelerators are Trainium
# chips, not GPUs) has none.
INSTANCE_GPUS: Mapping[str, int] = {
    "ml.p2.xlarge": 1,
    "ml.p2.8xlarge": 8,
    "ml.p2.16xlarge": 16,
    "ml.p3.2xlarge": 1,
    "ml.p3.8xlarge": 4,
    "ml.p3.16xlarge": 8,
    "ml.p3dn.24xlarge": 8,
    "ml.p4d.24xlarge": 8,
    "ml.p4de.24xlarge": 8,
    "ml.p5.48xlarge": 8,
    "ml.p5e.48xlarge": 8,
    "ml.p5en.48xlarge": 8,
    "ml.p6-b200.48xlarge": 8,
    "ml.g4dn.xlarge": 1,
    "ml.g4dn.2xlarge": 1,
    "ml.g4dn.4xlarge": 1,
    "ml.g4dn.8xlarge": 1,
    "ml.g4dn.16xlarge": 1,
    "ml.g4dn.12xlarge": 4,
    "ml.g5.xlarge": 1,
    "ml.g5.2xlarge": 1,
    "ml.g5.4xlarge": 1,
    "ml.g5.8xlarge": 1,
    "ml.g5.16xlarge": 1,
    "ml.g5.12xlarge": 4,
    "ml.g5.24xlarge": 4,
    "ml.g5.48xlarge": 8,
    "ml.g6.xlarge": 1,
    "ml.g6.2xlarge": 1,
    "ml.g6.4xlarge": 1,
    "ml.g6.8xlarge": 1,
    "ml.g6.16xlarge": 1,
    "ml.g6.12xlarge": 4,
    "ml.g6.24xlarge": 4,
    "ml.g6.48xlarge": 8,
    "ml.g6e.xlarge": 1,
    "ml.g6e.2xlarge": 1,
    "ml.g6e.4xlarge": 1,
    "ml.g6e.8xlarge": 1,
    "ml.g6e.16xlarge": 1,
    "ml.g6e.12xlarge": 4,
    "ml.g6e.24xlarge": 4,
    "ml.g6e.48xlarge": 8,
}


@dataclass(frozen=True)
class GpuNeed:
    """What one run of a job holds: `gpus` whole GPUs, or (`runs_per_gpu` > 1) one GPU
    shared with up to `runs_per_gpu` - 1 other runs of the same job."""

    gpus: int = 0
    runs_per_gpu: int = 1

    @property
    def packed(self) -> bool:
        return self.runs_per_gpu > 1 and self.gpus > 0

    def words(self) -> str:
        if self.packed:
            return f"a share of one GPU (up to {self.runs_per_gpu} runs to a GPU)"
        return f"{self.gpus} GPU{'s' if self.gpus != 1 else ''}"


@dataclass(frozen=True)
class GpuOffer:
    """What a worker that counts its GPUs has, as it asks for work: `total` GPUs, `free`
    of them held by no run, and `shared`: for a job whose runs share GPUs, how many more
    of its runs the GPUs they hold can take."""

    total: int
    free: int
    shared: Mapping[str, int] = field(default_factory=dict)

    def places(self, job: str, need: GpuNeed) -> bool:
        """Whether a run of `job` wanting `need` can start on the worker now."""
        if need.gpus == 0:
            return True
        if need.packed:
            return self.shared.get(job, 0) > 0 or self.free > 0
        return self.free >= need.gpus

    def could_ever_place(self, need: GpuNeed) -> bool:
        """Whether the worker could place such a run once its GPUs are all free."""
        return need.gpus <= self.total


def gpu_need(search: SearchSpec) -> GpuNeed:
    """What each run of the search holds: `resources.gpus_per_run` where given, else the
    GPUs of a SageMaker training job's instances (`INSTANCE_GPUS` times InstanceCount),
    else none."""
    resources = search.resources
    if resources.gpus_per_run is not None:
        return GpuNeed(resources.gpus_per_run, resources.runs_per_gpu)
    definition = _mapping((search.sagemaker or {}).get("TrainingJobDefinition"))
    config = _mapping(
        definition.get("ResourceConfig") or definition.get("HyperParameterTuningResourceConfig")
    )
    per_instance = INSTANCE_GPUS.get(str(config.get("InstanceType")), 0)
    count = config.get("InstanceCount")
    instances = count if isinstance(count, int) and not isinstance(count, bool) else 1
    return GpuNeed(per_instance * max(instances, 1), resources.runs_per_gpu)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
