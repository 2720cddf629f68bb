"""Helpers for the published-site tests: hand-written output folders and a site reader."""

from __future__ import annotations

import http.client
import http.server
import json
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from titanic.fingerprint import sha256_hex
from titanic.io.output_sets import seal

SUMMARY = {
    "title": "Who survived the Titanic?",
    "question": "Which passengers were more likely to survive, and how well can it be predicted?",
    "headline": [
        "Women survived far more often than men: **74 %** against **19 %**.",
        "The model predicts survival for new passengers with about **82 %** accuracy.",
    ],
    "expected_accuracy": {
        "estimate": 0.8215,
        "low": 0.7901,
        "high": 0.8529,
        "level": 0.95,
        "sample_size": 891,
        "method": "nested cross-validation",
        "sentence": "Expect about **82 %** of new passengers to be classified correctly.",
    },
    "findings": [
        "First-class passengers survived **2.6 times** as often as third-class ones.",
        "Children under 13 survived more often than adults.",
    ],
    "data": {
        "source": "embedded:titanic/data",
        "files": [
            {
                "role": "train",
                "url": "embedded:titanic/data/train.csv",
                "rows": 891,
                "sha256": "7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f",
            }
        ],
    },
}
PRIVATE = ("model.joblib", "report.ipynb", "params.resolved.yaml", "sweep.log")
SUMMARY_HEADER = (
    "variant,status,cached,seconds,model.max_depth,accuracy,precision,recall,f1,roc_auc,"
    "cv_accuracy_mean,cv_accuracy_std,cv_f1_mean,cv_f1_std,cv_roc_auc_mean,cv_roc_auc_std,"
    "report,error,best"
)
HREF = re.compile(r"""<a\b[^>]*\bhref="([^"]*)\"""", re.IGNORECASE)


def page(title: str) -> bytes:
    head = f"<!DOCTYPE html><html><head><title>{title}</title></head>"
    return f"{head}<body><h1>{title}</h1></body></html>".encode()


def sealed(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    seal(folder, "test", {})


def metrics(commit: str) -> bytes:
    return json.dumps(
        {"metrics": {}, "provenance": {"git": {"commit": commit, "dirty": False}}}
    ).encode()


def write_outputs(output: Path, edition: str, variants: list[str], summary: bool = True) -> None:
    """Write a rendered report and a sweep of ``variants`` (each a max_depth) into ``output``.

    Every file carries ``edition`` so that two editions of the site can be told apart; each set
    holds the private files too (model, notebook, resolved parameters, log). The folder is
    written afresh: a root set sealed over an earlier sweep would list the variants' files.
    """
    shutil.rmtree(output, ignore_errors=True)
    report = {
        "report.html": page(f"report {edition}"),
        "report.pdf": f"%PDF-1.7 report {edition}".encode(),
        "metrics.json": metrics(f"{edition:0<40}"[:40]),
        "figures/roc_curve.png": f"png {edition}".encode(),
        "model.joblib": f"pickle {edition}".encode(),
        "report.ipynb": b"{}",
        "params.resolved.yaml": b"seed: 1\n",
    }
    if summary:
        report["summary.json"] = json.dumps(SUMMARY).encode()
    sealed(output, report)
    rows = [SUMMARY_HEADER]
    for depth in variants:
        name = f"max_depth-{depth}"
        sealed(
            output / "variants" / name,
            {
                "report.html": page(f"variant {name} {edition}"),
                "metrics.json": metrics(f"{edition:0<40}"[:40]),
                "figures/roc_curve.png": f"png {name} {edition}".encode(),
                "model.joblib": b"pickle",
                "report.ipynb": b"{}",
                "sweep.log": b"log",
            },
        )
        rows.append(
            f"{name},done,False,1.0,{depth},0.8,0.8,0.7,0.75,0.85,0.81,0.01,0.7,0.02,0.86,0.01,"
            f"{name}/report.html,,False"
        )
    if variants:
        variants_folder = output / "variants"
        (variants_folder / "summary.csv").write_text("\n".join(rows) + "\n")
        links = "".join(
            f'<a href="max_depth-{depth}/report.html">{depth}</a>' for depth in variants
        )
        (variants_folder / "index.html").write_bytes(
            page(f"comparison {edition}").replace(b"</body>", links.encode() + b"</body>")
        )
        (variants_folder / ".figures-cache.json").write_text("{}")


def links_of(content: bytes | str) -> list[str]:
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    return HREF.findall(text)


def read_site(fetch: Callable[[str], bytes | None]) -> dict[str, bytes]:
    """Read a published site as a reader would, from its root, and check it is whole.

    ``fetch`` returns an object's bytes by name under the destination, ``None`` if absent.
    Returns the live version's files by name; fails when a file is missing, differs from the
    version's site.json, or a page links to a name the version does not hold.
    """
    pointer = fetch("index.html")
    assert pointer is not None, "no index.html at the root"
    target = re.search(rb'url=(versions/[^/"]+)/index\.html', pointer)
    assert target is not None, pointer
    prefix = target.group(1).decode()
    listing = fetch(f"{prefix}/site.json")
    assert listing is not None, (
        f"{prefix}/site.json missing: the pointer names an unfinished version"
    )
    files = {}
    for name, entry in json.loads(listing)["files"].items():
        content = fetch(f"{prefix}/{name}")
        assert content is not None, f"{prefix}/{name} missing"
        assert sha256_hex(content) == entry["sha256"], f"{prefix}/{name} differs from site.json"
        files[name] = content
    for name, content in files.items():
        if name.endswith(".html"):
            for link in links_of(content):
                parts = urlsplit(link)
                assert not parts.scheme and not parts.netloc, f"{name}: absolute link {link}"
                if parts.path:
                    target_name = urljoin(f"/{name}", parts.path).lstrip("/")
                    assert target_name in files, f"{name}: broken link {link}"
    return files


# --- an HTTP proxy in front of moto that breaks the network from the n-th write on ---------------

WRITES = ("PUT", "POST", "DELETE")
HOP_HEADERS = {"connection", "transfer-encoding", "content-length", "expect", "keep-alive"}


class FaultProxy:
    """Forward requests on 127.0.0.1 to an S3 server, counting writes (PUT, POST, DELETE).

    From write number ``fail_from`` on, every write's connection is closed with no answer (the
    network is gone); at write number ``hold_at`` the request waits until :attr:`release` is set,
    with :attr:`held` set meanwhile (a publish caught in the middle, for SIGKILL).
    """

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream).netloc
        self.writes = 0
        self.log: list[tuple[str, str]] = []
        self.fail_from: int | None = None
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _relay(self) -> None:
                proxy.relay(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _relay  # noqa: N815

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()

    def reset(self, fail_from: int | None = None, hold_at: int | None = None) -> None:
        with self._lock:
            self.writes, self.fail_from, self.hold_at = 0, fail_from, hold_at
            self.log = []
            self.held.clear()
            self.release.clear()

    @staticmethod
    def _body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
                chunk = handler.rfile.read(size + 2)[:size]
                if not size:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))

    def relay(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        body = self._body(handler)
        if handler.command in WRITES:
            with self._lock:
                self.writes += 1
                position = self.writes
                self.log.append((handler.command, handler.path.split("?")[0]))
            if self.fail_from is not None and position >= self.fail_from:
                handler.close_connection = True
                return
            if position == self.hold_at:
                self.held.set()
                self.release.wait(60)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_HEADERS}
        connection = http.client.HTTPConnection(self.upstream, timeout=30)
        try:
            connection.request(handler.command, handler.path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        handler.send_response(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_HEADERS:
                handler.send_header(key, value)
        length = response.getheader("Content-Length") if handler.command == "HEAD" else None
        handler.send_header("Content-Length", length or str(len(content)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(content)
