"""The SageMaker training toolkit's view of a run: its folders, its config files and the
`SM_*` variables a script-mode program (or a mapped image's command) reads.

As `sagemaker_training.environment.Environment.to_env_vars` writes them, one host named
`algo-1`, and the decoded hyperparameters. A value that is text is given as it is,
anything else as compact JSON with sorted keys, as the toolkit does. The folders named are
those given: the run's own folder where the program runs on the worker's host (script
mode, a mapped image), `RunFolders(Path("/opt/ml"))` where it sees the run's folder at
/opt/ml (app/clients/opt_ml.py); `RunFolders` is path arithmetic, touching no disk until
`make`.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.clients.training_job import TrainingJob

__all__ = [
    "HOST",
    "RunFolders",
    "decoded_hyperparameters",
    "resource_config",
    "toolkit_arguments",
    "toolkit_environment",
    "write_config",
]

HOST = "algo-1"
_GROUP = "homogeneousCluster"
# The sagemaker_* hyperparameters the toolkit reads itself; other sagemaker_* ones are
# the framework's (SM_FRAMEWORK_PARAMS), and the rest the program's.
_TOOLKIT_OWN = frozenset(
    {
        "sagemaker_program",
        "sagemaker_submit_directory",
        "sagemaker_container_log_level",
        "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_job_name",
        "sagemaker_region",
        "sagemaker_s3_output",
    }
)


@dataclass(frozen=True)
class RunFolders:
    """A run's folders under `root` (a fresh folder of the worker's), laid out as
    `/opt/ml` is in a training container."""

    root: Path

    @property
    def code(self) -> Path:
        return self.root / "code"

    @property
    def config(self) -> Path:
        """SageMaker's config files (`write_config`), as `/opt/ml/input/config` holds them."""
        return self.root / "input" / "config"

    @property
    def input(self) -> Path:
        return self.root / "input"

    def channel(self, name: str) -> Path:
        """Input channel `name`'s folder in the run's: where an `s3://` channel is
        downloaded, and a shared one mounted in a private /opt/ml."""
        return self.root / "input" / "data" / name

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def output_data(self) -> Path:
        return self.root / "output" / "data"

    @property
    def intermediate(self) -> Path:
        return self.root / "output" / "intermediate"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def make(self) -> None:
        """Make the folders a program writes in (the model's and the output's)."""
        for folder in (self.input, self.model, self.output_data, self.intermediate):
            folder.mkdir(parents=True, exist_ok=True)


def decoded_hyperparameters(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """A training job's own hyperparameters (not `sagemaker_*`) as the SageMaker training
    toolkit reads them: each value JSON-decoded, since the SageMaker SDK JSON-encodes every
    one it sends (`"\\"x\\""`, `"0.01"`, `"true"`). A value that is no JSON (a tuned
    categorical value AMT sends as it is, `adam`) stays text; the toolkit would then keep
    every value as text, quotes and all, and this one does not.
    """
    return {
        name: value
        for name, value in _decoded(hyperparameters).items()
        if not name.startswith("sagemaker_")
    }


def toolkit_arguments(hyperparameters: Mapping[str, str]) -> list[str]:
    """The program's arguments as the toolkit writes them (`mapping.to_cmd_args`): in name
    order, `--name` (`-n` for a one-letter name) and str() of the decoded value (so JSON's
    true is `True`), a mapping as `k=v,...` in key order."""
    user = decoded_hyperparameters(hyperparameters)
    arguments = []
    for name in sorted(user):
        value = user[name]
        if isinstance(value, dict):
            text = ",".join(f"{key}={item}" for key, item in sorted(value.items()))
        else:
            text = "" if value is None else str(value)
        arguments += [f"--{name}" if len(name) > 1 else f"-{name}", text]
    return arguments


def resource_config(job: TrainingJob) -> dict[str, Any]:
    """resourceconfig.json: one host, `algo-1`, of the job's instance type."""
    instance_type = job.instance_type or "local"
    return {
        "current_host": HOST,
        "current_instance_type": instance_type,
        "current_group_name": _GROUP,
        "hosts": [HOST],
        "instance_groups": [
            {"instance_group_name": _GROUP, "instance_type": instance_type, "hosts": [HOST]}
        ],
        "network_interface_name": "eth0",
    }


def write_config(config_dir: Path, hyperparameters: Mapping[str, str], job: TrainingJob) -> None:
    """SageMaker's input/config files: hyperparameters.json (as sent, text),
    inputdataconfig.json (a channel's mode and types), resourceconfig.json."""
    config_dir.mkdir(parents=True, exist_ok=True)
    channels = {channel.name: channel.config() for channel in job.channels}
    for name, content in (
        ("hyperparameters.json", dict(hyperparameters)),
        ("inputdataconfig.json", channels),
        ("resourceconfig.json", resource_config(job)),
    ):
        (config_dir / name).write_text(json.dumps(content))


def toolkit_environment(
    hyperparameters: Mapping[str, str],
    job: TrainingJob,
    channels: Mapping[str, Path],
    folders: RunFolders,
    config_dir: Path,
    *,
    program: str | None = None,
    job_environment: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every variable the toolkit sets for a program, for this run.

    Args:
        channels: each input channel's folder on this worker.
        config_dir: the folder holding `write_config`'s files (SM_INPUT_CONFIG_DIR).
        program: the entry point (script mode), or None for a mapped image's command.
        job_environment: the training job's Environment (SAGEMAKER_TRAINING_MODULE).
    """
    every = _decoded(hyperparameters)
    user = decoded_hyperparameters(hyperparameters)
    framework = {
        name: value
        for name, value in every.items()
        if name.startswith("sagemaker_") and name not in _TOOLKIT_OWN
    }
    resources = resource_config(job)
    input_data = {channel.name: channel.config() for channel in job.channels}
    log_level = every.get("sagemaker_container_log_level", 20)
    framework_module = (job_environment or {}).get("SAGEMAKER_TRAINING_MODULE")
    module_name = program[:-3] if program and program.endswith(".py") else program
    group = resources["instance_groups"][0]
    folders_of = {name: str(folder) for name, folder in sorted(channels.items())}
    training_env = {
        "additional_framework_parameters": framework,
        "channel_input_dirs": folders_of,
        "current_host": HOST,
        "current_instance_group": _GROUP,
        "current_instance_group_hosts": [HOST],
        "current_instance_type": resources["current_instance_type"],
        "distribution_hosts": [],
        "distribution_instance_groups": [],
        "framework_module": framework_module,
        "hosts": [HOST],
        "hyperparameters": user,
        "input_config_dir": str(config_dir),
        "input_data_config": input_data,
        "input_dir": str(folders.input),
        "instance_groups": [_GROUP],
        "instance_groups_dict": {_GROUP: group},
        "is_hetero": False,
        "is_master": True,
        "is_modelparallel_enabled": False,
        "job_name": job.name,
        "log_level": log_level,
        "master_hostname": HOST,
        "model_dir": str(folders.model),
        "module_dir": str(folders.code) if program else None,
        "module_name": module_name,
        "network_interface_name": "eth0",
        "num_cpus": os.cpu_count() or 1,
        "num_gpus": len(job.gpus) if job.gpus is not None else _gpus(),
        "output_data_dir": str(folders.output_data),
        "output_dir": str(folders.output),
        "output_intermediate_dir": str(folders.intermediate),
        "resource_config": resources,
        "user_entry_point": program,
    }
    named = {
        "hosts": [HOST],
        "network_interface_name": "eth0",
        "hps": user,
        "user_entry_point": program,
        "framework_params": framework,
        "resource_config": resources,
        "input_data_config": input_data,
        "output_data_dir": str(folders.output_data),
        "channels": sorted(channels),
        "current_host": HOST,
        "current_instance_type": resources["current_instance_type"],
        "current_instance_group": _GROUP,
        "current_instance_group_hosts": [HOST],
        "instance_groups": [_GROUP],
        "instance_groups_dict": {_GROUP: group},
        "distribution_instance_groups": [],
        "is_hetero": False,
        "module_name": module_name,
        "log_level": log_level,
        "framework_module": framework_module,
        "input_dir": str(folders.input),
        "input_config_dir": str(config_dir),
        "output_dir": str(folders.output),
        "num_cpus": training_env["num_cpus"],
        "num_gpus": training_env["num_gpus"],
        "model_dir": str(folders.model),
        "module_dir": training_env["module_dir"],
        "training_env": training_env,
        "user_args": toolkit_arguments(hyperparameters),
        "output_intermediate_dir": str(folders.intermediate),
        **{f"channel_{name}": folder for name, folder in folders_of.items()},
        **{f"hp_{name}": value for name, value in user.items()},
    }
    environment = {f"SM_{key.upper()}": _variable(value) for key, value in named.items()}
    # What SageMaker itself sets in a training container, and the toolkit reads.
    environment["TRAINING_JOB_NAME"] = job.name
    environment["SM_CURRENT_HOST"] = HOST
    if job.checkpoint is not None:
        # Neither the toolkit nor the SDK names the checkpoint folder to a program (it is
        # CheckpointConfig.LocalPath in the container, /opt/ml/checkpoints by default);
        # on the host it is a folder of the run, so it is named here.
        environment["SM_CHECKPOINT_DIR"] = str(folders.checkpoints)
    return environment


def _decoded(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for name, value in hyperparameters.items():
        try:
            decoded[name] = json.loads(value)
        except ValueError:
            decoded[name] = value
    return decoded


def _variable(value: Any) -> str:
    """A value as `mapping.to_env_vars` writes it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@functools.cache
def _gpus() -> int:
    """GPUs here, counted as the toolkit counts them (`nvidia-smi --list-gpus`), for a
    worker that does not give each run its own."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(
            ["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))
