# syntax=docker/dockerfile:1.7
# ELYSIUM Commerce: one image for the web server (`elysium serve`, the default) and the job
# worker (`elysium worker`). Build: docker build -t elysium .
# Run:   docker run --env-file /etc/elysium/elysium.env -p 8000:8000 elysium
#        docker run --env-file /etc/elysium/elysium.env elysium elysium worker
# Migrate before starting a new release: docker run --env-file ... elysium elysium migrate
ARG PYTHON_VERSION=3.11

# --- build: a virtual environment with the runtime dependencies and the project -------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /uvx /usr/local/bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
# The project itself, installed as a wheel (not editable): the migrations, alembic.ini and the
# demo data travel inside the package, so the image needs no source checkout.
COPY README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
COPY data/demo ./data/demo
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the environment, pg_dump for backups, a non-root user -------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
# postgresql-client (15 on bookworm, the server's major version) for `elysium backup/restore`
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 elysium \
    && useradd --system --uid 10001 --gid elysium --home-dir /app --shell /usr/sbin/nologin elysium \
    && mkdir -p /app/data \
    && chown elysium:elysium /app/data
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data \
    BACKUP_DIR=/app/data/backups
WORKDIR /app
USER elysium
EXPOSE 8000
# Liveness of the web server (a worker container overrides or disables it).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=2).status == 200 else 1)"]
# SIGTERM (docker stop): in-flight requests finish within WEB_GRACEFUL_TIMEOUT_SECONDS.
STOPSIGNAL SIGTERM
CMD ["elysium", "serve"]
