# syntax=docker/dockerfile:1
# Reproduces the report with the locked environment and a pinned Quarto:
#   docker build -t titanic .
#   mkdir -p _output && docker run --rm -v "$PWD/_output:/app/_output" titanic
#   docker run --rm -p 5000:5000 -v "$PWD/_output:/app/_output" titanic serve
FROM python:3.11.14-slim-bookworm

ARG QUARTO_VERSION=1.8.27
ARG UV_VERSION=0.13.9
# BuildKit sets TARGETARCH (amd64 or arm64); Quarto publishes a .deb for both.
ARG TARGETARCH=amd64

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLBACKEND=Agg \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

# make runs the README's command (`make report`); Quarto comes from its release .deb, fetched with
# the interpreter the base image already has, so no download tool stays in the image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make=4.3-4.1 \
    && python -c "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])" \
        "https://github.com/quarto-dev/quarto-cli/releases/download/v${QUARTO_VERSION}/quarto-${QUARTO_VERSION}-linux-${TARGETARCH}.deb" \
        /tmp/quarto.deb \
    && dpkg -i /tmp/quarto.deb \
    && rm -f /tmp/quarto.deb \
    && rm -rf /var/lib/apt/lists/* \
    && quarto --version \
    && python -m pip install --no-cache-dir "uv==${UV_VERSION}"

# `serve` renders the report when the mounted _output/ has none yet, then serves that folder.
RUN printf '%s\n' '#!/bin/sh' 'set -e' 'cd /app' \
        '[ -f _output/report.html ] || make report' \
        'exec python -m http.server 5000 --directory _output' > /usr/local/bin/serve \
    && chmod 0755 /usr/local/bin/serve

RUN useradd --create-home --uid 1000 --user-group app \
    && install -d -o app -g app /app /app/_output
WORKDIR /app
USER 1000:1000

# The environment first, from the lock alone, so that editing the code does not reinstall it.
COPY --chown=app:app pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python

COPY --chown=app:app README.md ./
COPY --chown=app:app src/ src/
# The Makefile's setup step wants .venv/bin/uv and a .venv/.synced newer than the lock: both hold
# here, so `make report` goes straight to rendering instead of syncing the dev group again.
RUN uv sync --frozen --no-dev --python /usr/local/bin/python \
    && ln -s /usr/local/bin/uv /app/.venv/bin/uv \
    && touch /app/.venv/.synced

COPY --chown=app:app Makefile params.yaml report.qmd _quarto.yml report.scss ./
COPY --chown=app:app scripts/ scripts/

ENV PATH="/app/.venv/bin:${PATH}"
# 8786: a Dask scheduler started from this image (`dask scheduler`); workers need no port.
EXPOSE 5000 8786
VOLUME ["/app/_output"]
# The default renders the report; `dask worker tcp://scheduler:8786` makes the image a sweep worker.
CMD ["make", "report"]
