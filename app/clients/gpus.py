"""A worker's GPUs: which it has (`--gpus`), and which each of its runs holds.

`GpuSlots` hands a run its own GPUs (or, for a job that packs runs, a share of one GPU
with runs of the same job) and takes them back when the run ends. What it has free is
what the worker offers when it asks for work, so the service never leases it a run it
cannot place; the worker asks, places and records under one lock, so two of its slots
never offer the same free GPU.

A run sees only its GPUs: `CUDA_VISIBLE_DEVICES` lists them (empty for a run that holds
none), as does `NVIDIA_VISIBLE_DEVICES` for a container.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pynvml

__all__ = ["GpuSlots", "Placement", "find_gpus", "parse_gpus"]

_NVIDIA_SMI_TIMEOUT = 30.0


@dataclass(frozen=True)
class Placement:
    """The GPUs one run holds (by the worker's names for them: `0`, `1`, or UUIDs)."""

    devices: tuple[str, ...] = ()

    def environment(self) -> dict[str, str]:
        """The variables that show the run its GPUs, and only them."""
        listed = ",".join(self.devices)
        return {"CUDA_VISIBLE_DEVICES": listed, "NVIDIA_VISIBLE_DEVICES": listed or "void"}


def parse_gpus(given: str) -> tuple[str, ...]:
    """`--gpus`: `all` (the GPUs NVML or nvidia-smi finds here), `none`, or a comma-separated
    list of device indices or UUIDs (`0,1`, `GPU-5e0b...`).

    Raises: ValueError for an empty entry or one listed twice.
    """
    if given == "all":
        return find_gpus()
    if given == "none":
        return ()
    devices = tuple(part.strip() for part in given.split(","))
    if any(not device for device in devices):
        raise ValueError(f"--gpus takes all, none or a list such as 0,1; got {given!r}")
    if len(set(devices)) != len(devices):
        raise ValueError(f"--gpus lists a GPU twice: {given!r}")
    return devices


def find_gpus() -> tuple[str, ...]:
    """This machine's GPUs by index: NVML's count (nvidia-ml-py), else the lines of
    `nvidia-smi -L`, else none. Inside a container or a pod, the ones it was given."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        pass  # no driver or no device here: ask nvidia-smi
    else:
        try:
            return tuple(str(index) for index in range(pynvml.nvmlDeviceGetCount()))
        finally:
            pynvml.nvmlShutdown()
    if shutil.which("nvidia-smi") is None:
        return ()
    try:
        listed = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=_NVIDIA_SMI_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    count = sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))
    return tuple(str(index) for index in range(count))


class GpuSlots:
    """Which of a worker's GPUs each of its runs holds. Thread-safe."""

    def __init__(self, devices: Sequence[str]) -> None:
        self.devices = tuple(devices)
        self.lock = threading.RLock()  # held by the worker from its offer to `place`
        self._runs: dict[str, Placement] = {}  # by run key: the GPUs each run holds
        self._whole: set[str] = set()  # devices a run holds alone
        self._packed: dict[str, tuple[str, int]] = {}  # device: (job, runs_per_gpu)

    def offer(self) -> dict[str, Any]:
        """What the worker has, as `POST /v1/leases` takes it (hold `lock` from the offer
        to `place`)."""
        with self.lock:
            shared: dict[str, int] = {}
            for device, (job, _per_gpu) in self._packed.items():
                shared[job] = shared.get(job, 0) + self._room(device)
            free = sum(1 for device in self.devices if self._is_free(device))
            return {"total": len(self.devices), "free": free, "shared": shared}

    def place(self, key: str, job: str, gpus: int, runs_per_gpu: int) -> Placement:
        """Give the run (`key`: unique among the worker's runs) its GPUs: `gpus` of its
        own, or with `runs_per_gpu` > 1 a share of one GPU with runs of the same job.

        Raises: ValueError if they are not free: the service leased a run that the offer
            could not place.
        """
        with self.lock:
            free = [device for device in self.devices if self._is_free(device)]
            if gpus == 0:
                chosen: list[str] = []
            elif runs_per_gpu > 1:
                sharing = [
                    device
                    for device, (holder, _per_gpu) in self._packed.items()
                    if holder == job and self._room(device)
                ]
                if not sharing and not free:
                    raise ValueError(f"no GPU can take a share for {key}")
                device = min(sharing, key=self.devices.index) if sharing else free[0]
                self._packed.setdefault(device, (job, runs_per_gpu))
                chosen = [device]
            else:
                if len(free) < gpus:
                    raise ValueError(f"{key} wants {gpus} GPUs; {len(free)} are free")
                chosen = free[:gpus]
                self._whole.update(chosen)
            placement = Placement(tuple(chosen))
            self._runs[key] = placement
            return placement

    def release(self, key: str) -> None:
        """Take back the GPUs the run held (a shared GPU once its last run ends)."""
        with self.lock:
            placement = self._runs.pop(key, None)
            for device in placement.devices if placement else ():
                self._whole.discard(device)
                if device in self._packed and not self._sharers(device):
                    del self._packed[device]

    def held(self) -> Mapping[str, Placement]:
        """The GPUs each run holds, by its key."""
        with self.lock:
            return dict(self._runs)

    def _is_free(self, device: str) -> bool:
        return device not in self._whole and device not in self._packed

    def _sharers(self, device: str) -> int:
        return sum(1 for placement in self._runs.values() if device in placement.devices)

    def _room(self, device: str) -> int:
        return self._packed[device][1] - self._sharers(device)
