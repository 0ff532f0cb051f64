# syntax=docker/dockerfile:1
# FrugalFlow worker image: `docker build -t frugalflow .`
# The same image runs `frugalflow worker` (default), `frugalflow topics apply` and
# `frugalflow emulator --host 0.0.0.0`. Only the runtime dependencies are installed
# (`pip install .`): no `local` or `dev` extras, no compiler in the final image.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: a virtualenv with the package and its dependencies -------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# pyproject.toml names README.md as the long description: both are needed to build.
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --upgrade pip setuptools wheel \
    && pip install . \
    && find /opt/venv -name '__pycache__' -type d -prune -exec rm -rf {} +

# ---- runtime: the venv, the topic definitions, a non-root user --------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="frugalflow" \
      org.opencontainers.image.description="Kafka stream processor that cuts LLM bills" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FRUGALFLOW_TOPICS_FILE=/app/topics/topics.yaml \
    FRUGALFLOW_DATA_DIR=/var/lib/frugalflow \
    FRUGALFLOW_WEB_HOST=0.0.0.0 \
    FRUGALFLOW_WEB_PORT=6066 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
RUN groupadd --system --gid 10001 frugalflow \
    && useradd --system --uid 10001 --gid frugalflow --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin frugalflow \
    && mkdir -p /app /var/lib/frugalflow \
    && chown frugalflow:frugalflow /var/lib/frugalflow
COPY --from=builder /opt/venv /opt/venv
# app/topics.py reads FRUGALFLOW_TOPICS_FILE (the packaged default path only exists in a
# source checkout).
COPY topics/topics.yaml /app/topics/topics.yaml
WORKDIR /app
USER 10001:10001
EXPOSE 6066
# The worker serves Prometheus metrics on FRUGALFLOW_WEB_PORT (no curl in slim images).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ.get('FRUGALFLOW_WEB_PORT', '6066'), timeout=4).close()"]
ENTRYPOINT ["frugalflow"]
CMD ["worker"]
