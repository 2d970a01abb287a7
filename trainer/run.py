"""One training run: build everything from the hyperparameters, train, log each epoch."""

from __future__ import annotations

import json
import logging
import os
import time

import torch

from trainer.data import load_task_data
from trainer.hyperparameters import Hyperparameters
from trainer.log import epoch_line
from trainer.loop import Training, fit
from trainer.losses import build_loss
from trainer.metrics import build_metrics
from trainer.models import MLP
from trainer.optim import build_optimizer
from trainer.reproducibility import make_deterministic
from trainer.schedulers import build_schedule
from trainer.tasks import TASKS

__all__ = ["run"]

_log = logging.getLogger(__name__)


def run(hp: Hyperparameters) -> None:
    """Train a model as `hp` says, logging a start line, one line per epoch and an end line.

    Raises:
        TrainingDiverged: a printed value became nan or infinite.
    """
    generator = make_deterministic(hp.seed)
    device = _select_device()
    # JSON, not name=value pairs: metric definitions such as `\blr=(.*?);` must not
    # pick the hyperparameters up as metric values.
    _log.info("starting on %s with hyperparameters %s", device, json.dumps(hp.as_dict()))
    started = time.perf_counter()

    task = TASKS[hp.task]
    data = load_task_data(task)
    model = MLP(data.features, task.outputs, hp.hidden_units, hp.dropout).to(device)
    optimizer = build_optimizer(model.parameters(), hp)
    training = Training(
        task=task,
        model=model,
        loss=build_loss(hp).to(device),
        optimizer=optimizer,
        schedule=build_schedule(optimizer, hp),
        metrics=build_metrics(task).to(device),
        loaders=data.loaders(hp.batch_size, generator),
        device=device,
    )
    for report in fit(training, hp.epochs):
        _log.info(
            "%s",
            epoch_line(
                report.epoch, report.train_loss, report.val_loss, report.val_metrics, report.lr
            ),
        )
    _log.info("finished %d epochs in %.2f s", hp.epochs, time.perf_counter() - started)


def _select_device() -> torch.device:
    """CUDA when there is a GPU; else the CPU, with one thread unless OMP_NUM_THREADS is set."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        # The MLP's matrices are too small to gain from intra-op threads, and on a shared
        # CPU (parallel runs of a tuning job) they cost dearly: on 2 busy cores, the
        # default run's training took 12-16 s with 2 threads and 1.5 s with 1.
        torch.set_num_threads(1)
    return device
