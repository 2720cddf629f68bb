# syntax=docker/dockerfile:1
# Reproduces the report with the locked environment and a pinned Quarto:
#   docker build -t titanic .
#   mkdir -p _output && docker run --rm -v "$PWD/_output:/app/_output" titanic
#   docker run --rm -p 5000:5000 -v "$PWD/_output:/app/_output" titanic serve
FROM python:3.11.14-slim-bookworm

ARG QUARTO_VERSION=1.8.27
# sha256 of Quarto's release archives quarto-<version>-linux-<arch>.tar.gz; change them with
# QUARTO_VERSION. The build stops when a download does not match.
ARG QUARTO_SHA256_AMD64=bdf689b5589789a1f21d89c3b83d78ed02a97914dd702e617294f2cc1ea7387d
ARG QUARTO_SHA256_ARM64=1f2082e82e971c5b2b78424cac93a0921c0050455ec5eaa32533b0230682883e
ARG UV_VERSION=0.13.9
# sha256 of uv's Linux wheels for UV_VERSION, as uv.lock records them (x86_64, then aarch64).
ARG UV_SHA256_X86_64=d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19
ARG UV_SHA256_AARCH64=5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe
ARG UV_SHA256_AARCH64_2_28=ecb6028d79dc96fbeafffe5c8af62a7099487ebc05a701e76714eebcffd06375
# BuildKit sets TARGETARCH (amd64 or arm64); Quarto publishes an archive for both.
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

# make runs the README's command (`make report`). Quarto comes from its release archive, fetched
# with the interpreter the base image already has (no download tool stays in the image) and
# checked against its sha256; uv comes from PyPI with pip checking the wheel's sha256
# (--require-hashes); the Python packages then come from uv.lock, whose hashes uv checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make=4.3-4.1 \
    && rm -rf /var/lib/apt/lists/* \
    && case "${TARGETARCH}" in \
        amd64) quarto_sha256="${QUARTO_SHA256_AMD64}" ;; \
        arm64) quarto_sha256="${QUARTO_SHA256_ARM64}" ;; \
        *) echo "no Quarto checksum for ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
    && python -c "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])" \
        "https://github.com/quarto-dev/quarto-cli/releases/download/v${QUARTO_VERSION}/quarto-${QUARTO_VERSION}-linux-${TARGETARCH}.tar.gz" \
        /tmp/quarto.tar.gz \
    && echo "${quarto_sha256}  /tmp/quarto.tar.gz" | sha256sum --check --strict - \
    && mkdir -p /opt/quarto \
    && tar -xzf /tmp/quarto.tar.gz -C /opt/quarto --strip-components=1 --no-same-owner \
    && rm -f /tmp/quarto.tar.gz \
    && ln -s /opt/quarto/bin/quarto /usr/local/bin/quarto \
    && quarto --version \
    && printf 'uv==%s --hash=sha256:%s --hash=sha256:%s --hash=sha256:%s\n' "${UV_VERSION}" \
        "${UV_SHA256_X86_64}" "${UV_SHA256_AARCH64}" "${UV_SHA256_AARCH64_2_28}" > /tmp/uv.txt \
    && python -m pip install --no-cache-dir --require-hashes -r /tmp/uv.txt \
    && rm -f /tmp/uv.txt

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
