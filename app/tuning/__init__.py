"""The search the service runs: each run's hyperparameters (`suggest`), early stopping and
Hyperband's rungs (`stopping`), completion (`completion`), all pure; `tuner` reads their
inputs from storage and writes their outcomes; `reaper` ends the runs of lost workers."""
