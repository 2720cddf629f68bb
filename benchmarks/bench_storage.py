"""Time the S3 paths against moto_server on loopback, and how fast faults fail.

Run: .venv/bin/python benchmarks/bench_storage.py (prints a Markdown table for docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from titanic.config import load_settings
from titanic.dataset import load_dataset
from titanic.errors import StorageError
from titanic.io.datastore import list_files, pull, push
from titanic.io.locations import read_bytes, resolve_location, s3_filesystem

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hold_connections(listener: socket.socket, held: list[socket.socket]) -> None:
    """Accept connections and never answer them, until the listener is closed."""
    while True:
        try:
            held.append(listener.accept()[0])
        except OSError:
            return


def seconds(action: Callable[[], object], repeats: int = REPEATS) -> list[float]:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.suppress(StorageError):  # the fault rows time the failure itself
            action()
        runs.append(time.perf_counter() - start)
    return runs


def main() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true"
    )
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    silent = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=hold_connections, args=(silent, held), daemon=True).start()
    try:
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        data = load_settings(
            ROOT / "params.yaml",
            overrides=["data.source=s3://bench/titanic", f"data.endpoint_url={endpoint}"],
        ).data
        s3_filesystem(data).mkdir("bench")
        refused = load_settings(
            ROOT / "params.yaml",
            overrides=[
                "data.source=s3://b/p",
                f"data.endpoint_url=http://127.0.0.1:{free_port()}",
            ],
        ).data
        quiet = load_settings(
            ROOT / "params.yaml",
            overrides=[
                "data.source=s3://b/p",
                f"data.endpoint_url=http://127.0.0.1:{silent.getsockname()[1]}",
            ],
        ).data
        embedded = load_settings(ROOT / "params.yaml", overrides=["data.source=embedded"]).data
        with tempfile.TemporaryDirectory() as folder:
            rows = [
                ("load_dataset, embedded", seconds(lambda: load_dataset(embedded))),
                ("titanic data push (CSV + SHA256SUMS)", seconds(lambda: push(data))),
                ("titanic data ls", seconds(lambda: list_files(data))),
                ("titanic data pull", seconds(lambda: pull(data, Path(folder) / "raw"))),
                ("load_dataset, s3:// (moto)", seconds(lambda: load_dataset(data))),
                (
                    "fault: refused port (S3)",
                    seconds(lambda: read_bytes(resolve_location(refused), "train.csv")),
                ),
                (
                    "fault: silent endpoint (S3)",
                    seconds(lambda: read_bytes(resolve_location(quiet), "train.csv"), 1),
                ),
            ]
    finally:
        server.terminate()
        server.wait(timeout=10)
        silent.close()
    print("| operation | median (s) | runs (s) |\n|:--|--:|:--|")
    for name, runs in rows:
        print(
            f"| {name} | {statistics.median(runs):.2f} | {', '.join(f'{r:.2f}' for r in runs)} |"
        )


if __name__ == "__main__":
    main()
