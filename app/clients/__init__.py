"""What runs beside training, on any machine that reaches the service over HTTP: the
client (`client`), the shipper that runs a command and posts its output (`shipper`), the
worker that leases a search's runs and runs them (`worker`, with `script_mode` for a
training image), the local sweep (`sweep`), the management commands (`manage`) and the
demo (`demo`, with `service_process`, the service as a child process).

Nothing here imports the server's modules: the two sides speak HTTP, and share only
`app.protocol`.
"""
