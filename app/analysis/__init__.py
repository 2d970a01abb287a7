"""How a job's search is going, read from its runs: pure functions of the storage's records.

`history`: each run's objective value and the best so far, by run index and by time.
`parallel`: the runs as rows over chosen hyperparameters and metrics (parallel coordinates).
`importance`: which hyperparameters matter, by Optuna's fANOVA or PED-ANOVA evaluators.
`early_stopping`: why a run was stopped early, step by step, as the median rule judged it.
"""
