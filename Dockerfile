# The logmetrics service. docker compose builds it as `logmetrics`.
FROM python:3.11-slim

WORKDIR /srv/logmetrics
COPY pyproject.toml README.md ./
COPY app ./app
COPY metric_defs ./metric_defs
RUN pip install --no-cache-dir .

# Installed as a package, the service cannot find metric_defs/ next to it: say where.
ENV LOGMETRICS_PRESETS_DIR=/srv/logmetrics/metric_defs \
    LOGMETRICS_DATABASE_URL=sqlite:////data/logmetrics.db
VOLUME /data
EXPOSE 8000
CMD ["logmetrics", "serve", "--host", "0.0.0.0", "--port", "8000"]
