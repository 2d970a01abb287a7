"""The reference trainer: a small real PyTorch training run that prints its metrics
as `name=value;` lines, the way algorithms tuned by SageMaker AMT do.

Run it with `python -m trainer [--name value ...]`; `--help` lists the hyperparameters.
It never imports the service (`app`).

Modules, in the order a run uses them:

    sources          hyperparameters.json, SM_HPS and flags, merged
    hyperparameters  the table of hyperparameters and the checked, typed record
    checks           the value checks the table is made of
    tasks            each task's losses and metrics
    objective        _tuning_objective_metric and its direction (min or max)
    log              logging setup and the name=value; line format
    run              builds a run from the hyperparameters and logs its epochs
    reproducibility  seeding and deterministic kernels
    data             each task's data, split, and its loaders
    ranking_data     the synthetic learning-to-rank set
    models           the MLP
    losses           focal and listwise softmax losses, and the loss factory
    optim            the optimizer factory
    schedulers       learning-rate schedules stepped per epoch
    metrics          torchmetrics validation metrics per task
    loop             the epoch loop
    errors           the errors that end a run with an exit code
"""
