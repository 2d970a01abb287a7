"""What the service and its clients both speak: a search's spec (`search`, the body of a
job's `search`, which `logmetrics sweep` checks before it sends one) and the rule for a
training image's name (`images`, which job creation and the worker's `docker run` both
apply). It imports neither side.
"""
