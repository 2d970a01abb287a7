# The logmetrics service. docker compose builds it as `logmetrics`.
FROM python:3.11-slim

WORKDIR /srv/logmetrics
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir .

# The presets ship inside the package (app/metric_defs): no path to set.
ENV LOGMETRICS_DATABASE_URL=sqlite:////data/logmetrics.db
VOLUME /data
EXPOSE 8000
CMD ["logmetrics", "serve", "--host", "0.0.0.0", "--port", "8000"]
