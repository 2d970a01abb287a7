"""What runs beside training, on any machine that reaches the service over HTTP: the
client (`client`), the shipper that runs a command and posts its output (`shipper`), the
worker that leases a search's runs and runs them (`worker`), the local sweep (`sweep`),
the management commands (`manage`) and the demo (`demo`, with `service_process`, the
service as a child process).

A worker's SageMaker training jobs: `training_job` (what a lease says of one),
`script_mode` (how to run one: a container entry point, script mode, a mapped image or
Docker, `docker`), `sharing` (what of the worker's disk a job may use), `toolkit` (the
run's folder laid out as /opt/ml, SageMaker's config files and the training toolkit's
`SM_*` variables), `opt_ml` (a private /opt/ml without Docker, and the failure reason a
job writes), `objects` (its S3) and `requirements` (the environments its requirements.txt
is installed in).

Nothing here imports the server's modules: the two sides speak HTTP, and share only
`app.protocol`.
"""
