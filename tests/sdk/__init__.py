"""Users' SageMaker code, unmodified, against a live service (issue 25's "Done when").

Each flow is a literal script run as its own process, with only what a user sets outside
their code in its environment (the endpoints, keys, the SDK's config file): SDK v2 with
.venv's python, SDK v3 with .venv-sdk3's (`make sdk3`), the AWS CLI as `aws sagemaker ...`.
A real `logmetrics worker` runs the training jobs against moto's S3 server. The scripts
share one source with the README: its marked blocks (the settings, the config file,
`code/train.py`, `data/rows.csv`) are written into each test's folder, and
tests/test_readme.py runs the README's own v2 and v3 scripts; tests/sdk/flows/ holds the
flows the README only names (estimator and attach, warm start).
"""
