"""The HTTP API: the app factory's routers (`routes/`, one per resource), their schemas and
dependencies."""
