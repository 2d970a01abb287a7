"""Webhooks: a job's named URLs told when something in it matters (the job ended, a new
best run, a run failed or was stopped early), delivered from the service with retries."""
