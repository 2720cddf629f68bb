"""Object storage against a real S3 HTTP endpoint on loopback (moto_server), https via http.server.

Every server here listens on 127.0.0.1 only and is stopped, with a check that it exited, when
its fixture ends.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from titanic.cli import app
from titanic.config import DataSettings, load_settings
from titanic.dataset import load_dataset
from titanic.errors import ConfigError, DataError, StorageError
from titanic.io import locations as storage
from titanic.io.datastore import (
    CHECKSUMS,
    FileFormat,
    list_files,
    parse_checksums,
    pull,
    push,
    read_checksums,
)
from titanic.io.locations import embedded_data_dir, read_bytes, resolve_location, s3_endpoint
from titanic.project import Project

from .conftest import loopback_server

EMBEDDED = embedded_data_dir()
PARAMS = Path("params.yaml")  # the test project's, in the current folder
TINY = [
    "-P",
    "model.n_estimators=10",
    "-P",
    "split.cv_folds=2",
    "-P",
    "evaluation.permutation_repeats=1",
    "-P",
    "selection.enabled=false",
]
FAKE_KEY_ID = "AKIATITANICFAKEKEYID7"
FAKE_SECRET = "titanic-fake-secret-Zq81xWv"
FAKE_TOKEN = "titanic-fake-session-token-Kp02yRt"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials, no endpoint variables, no ~/.aws files, no instance metadata calls."""
    for variable in (*storage.ENDPOINT_VARIABLES, "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def start_moto(extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start moto_server on a free loopback port; return it once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(extra_env or {})},
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                return server, endpoint
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                server.wait()
                raise RuntimeError(f"moto_server did not start on {endpoint}") from None
            time.sleep(0.1)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    assert server.poll() is not None, "moto_server is still running"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server that accepts any credentials."""
    server, endpoint = start_moto()
    try:
        yield endpoint
    finally:
        stop(server)


@pytest.fixture(scope="module")
def moto_auth_endpoint() -> Iterator[str]:
    """A moto S3 server that checks credentials (and knows none of ours)."""
    server, endpoint = start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    try:
        yield endpoint
    finally:
        stop(server)


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    """A fresh, empty bucket, created without a region (moto refuses a LocationConstraint)."""
    name = f"titanic-{uuid.uuid4().hex[:12]}"
    settings = load_settings(PARAMS, overrides=[f"data.endpoint_url={moto_endpoint}"])
    storage.s3_filesystem(settings.data).mkdir(name)
    return name


@pytest.fixture
def pushed(moto_endpoint: str, bucket: str) -> str:
    """The embedded data pushed to s3://<bucket>/titanic; returns that URL."""
    url = f"s3://{bucket}/titanic"
    push(data_settings(moto_endpoint, url))
    return url


def data_settings(endpoint: str | None, source: str, *overrides: str):
    extra = [f"data.endpoint_url={endpoint}"] if endpoint else []
    return load_settings(PARAMS, overrides=[f"data.source={source}", *extra, *overrides]).data


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def run_cli(output_dir: Path, *overrides: str):
    result = invoke("run", *TINY, "-P", f"output_dir={output_dir}", *overrides)
    assert result.exit_code == 0, result.output
    return json.loads((output_dir / "metrics.json").read_text())


@pytest.fixture(scope="module")
def embedded_metrics(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_cli(tmp_path_factory.mktemp("embedded"), "-P", "data.source=embedded")


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# --- endpoint and URL handling -----------------------------------------------------------------


def test_endpoint_prefers_params_then_ssp_cloud_bare_host_then_generic(monkeypatch):
    settings = data_settings(None, "s3://bucket/prefix")
    assert s3_endpoint(settings) is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    assert s3_endpoint(settings) == "http://127.0.0.1:9000"
    monkeypatch.setenv("AWS_S3_ENDPOINT", "minio.lab.sspcloud.fr")
    assert s3_endpoint(settings) == "https://minio.lab.sspcloud.fr"
    explicit = data_settings("http://127.0.0.1:9999", "s3://bucket/prefix")
    assert s3_endpoint(explicit) == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("data.source", "https://user:hunter2secret@127.0.0.1:1/data"),
        ("data.endpoint_url", "http://minio:hunter2secret@127.0.0.1:1"),
    ],
)
def test_credentials_in_urls_are_refused_without_echoing_them(key, value):
    overrides = ["data.source=s3://bucket/prefix", f"{key}={value}"]
    with pytest.raises(DataError, match=f"{key} must not hold credentials") as caught:
        resolve_location(load_settings(PARAMS, overrides=overrides).data)
    assert "hunter2secret" not in str(caught.value)


# --- push, ls, pull, run and render from S3 ----------------------------------------------------


def test_push_ls_pull_round_trip_keeps_the_bytes(moto_endpoint, pushed, tmp_path):
    settings = data_settings(moto_endpoint, pushed)
    listed = {file.name: file for file in list_files(settings)}
    assert set(listed) == {"train.csv", "test.csv", CHECKSUMS}
    for name in ("train.csv", "test.csv"):
        embedded_bytes = (EMBEDDED / name).read_bytes()
        assert listed[name].size == len(embedded_bytes)
        assert listed[name].status == "ok"
        assert listed[name].url == f"{pushed}/{name}"

    pulled = pull(settings, tmp_path / "raw")
    assert [file.name for file in pulled] == ["train.csv", "test.csv"]
    for name in ("train.csv", "test.csv"):
        assert (tmp_path / "raw" / name).read_bytes() == (EMBEDDED / name).read_bytes()
    assert sorted(path.name for path in (tmp_path / "raw").iterdir()) == [
        CHECKSUMS,
        "test.csv",
        "train.csv",
    ]


def test_cli_data_commands_print_urls_and_checksums(moto_endpoint, bucket, tmp_path):
    source = f"s3://{bucket}/cli"
    endpoint = ["-P", f"data.endpoint_url={moto_endpoint}"]
    result = invoke("data", "push", "--to", source, *endpoint)
    assert result.exit_code == 0, result.output
    digest = parse_checksums((EMBEDDED / CHECKSUMS).read_text(), "embedded")["train.csv"]
    assert f"{source}/train.csv" in result.output
    assert digest in result.output

    result = invoke("data", "ls", "-P", f"data.source={source}", *endpoint)
    assert result.exit_code == 0, result.output
    assert f"{digest}     61,194  ok        {source}/train.csv" in result.output

    result = invoke(
        "data", "pull", "--to", str(tmp_path / "raw"), "-P", f"data.source={source}", *endpoint
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "raw" / "train.csv").read_bytes() == (EMBEDDED / "train.csv").read_bytes()


def test_run_from_s3_gives_the_embedded_metrics(moto_endpoint, pushed, embedded_metrics, tmp_path):
    document = run_cli(
        tmp_path, "-P", f"data.source={pushed}", "-P", f"data.endpoint_url={moto_endpoint}"
    )
    assert document["metrics"] == embedded_metrics["metrics"]
    assert document["data"]["source"] == pushed
    assert document["data"]["endpoint"] == moto_endpoint
    for role in ("train", "test"):
        ours, theirs = document["data"]["files"][role], embedded_metrics["data"]["files"][role]
        assert ours["sha256"] == theirs["sha256"]
        assert ours["url"] == f"{pushed}/{role}.csv"


def test_parquet_push_reads_back_to_the_same_metrics(
    moto_endpoint, bucket, embedded_metrics, tmp_path
):
    source = f"s3://{bucket}/parquet"
    uploaded = push(data_settings(moto_endpoint, source), file_format=FileFormat.PARQUET)
    assert [file.name for file in uploaded] == ["train.parquet", "test.parquet"]
    assert (
        read_bytes(resolve_location(data_settings(moto_endpoint, source)), "train.parquet")[:4]
        == b"PAR1"
    )
    document = run_cli(
        tmp_path,
        "-P",
        f"data.source={source}",
        "-P",
        f"data.endpoint_url={moto_endpoint}",
        "-P",
        "data.train_file=train.parquet",
        "-P",
        "data.test_file=test.parquet",
    )
    assert document["metrics"] == embedded_metrics["metrics"]


def test_push_from_a_local_folder_and_endpoint_from_the_environment(
    moto_endpoint, bucket, tmp_path, monkeypatch
):
    folder = tmp_path / "copy"
    folder.mkdir()
    frame_bytes = (EMBEDDED / "train.csv").read_bytes()
    (folder / "mytrain.csv").write_bytes(frame_bytes)
    (folder / "mytest.csv").write_bytes((EMBEDDED / "test.csv").read_bytes())
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    settings = data_settings(
        None, f"s3://{bucket}/mine", "data.train_file=mytrain.csv", "data.test_file=mytest.csv"
    )
    push(settings, from_dir=folder)
    dataset = load_dataset(settings)
    assert dataset.files[0].url == f"s3://{bucket}/mine/mytrain.csv"
    assert len(dataset.train) == 891


def test_anonymous_access_needs_no_credentials(moto_endpoint, pushed, monkeypatch):
    # Public objects: a canned ACL (moto checks HeadObject, which s3fs sends first, against
    # object ACLs but not against a bucket policy that grants s3:GetObject).
    location = resolve_location(data_settings(moto_endpoint, pushed))
    for name in ("train.csv", "test.csv"):
        location.filesystem.chmod(location.path_of(name), acl="public-read")
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable)
    dataset = load_dataset(data_settings(moto_endpoint, pushed, "data.anonymous=true"))
    assert len(dataset.test) == 418
    with pytest.raises(StorageError, match="no credentials found for http://127.0.0.1"):
        load_dataset(data_settings(moto_endpoint, pushed))


@pytest.fixture
def https_server() -> Iterator[str]:
    """The embedded data folder served over HTTP on loopback, by a thread."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(EMBEDDED))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    with loopback_server(handler) as url:
        yield url


def test_public_http_link_reads_the_same_bytes(https_server, tmp_path):
    dataset = load_dataset(data_settings(None, f"{https_server}/"))
    embedded = load_dataset(load_settings(PARAMS).data)
    assert [file.sha256 for file in dataset.files] == [file.sha256 for file in embedded.files]
    pull(data_settings(None, https_server), tmp_path / "raw")
    assert (tmp_path / "raw" / "test.csv").read_bytes() == (EMBEDDED / "test.csv").read_bytes()
    with pytest.raises(DataError, match=f"{https_server}/absent.csv: file not found"):
        load_dataset(data_settings(None, https_server, "data.train_file=absent.csv"))


# --- faults: one clear message naming the URL, exit code 1, nothing half-written ---------------


def assert_fails(args: list[str], *fragments: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert message.startswith("error:"), message
    assert "Traceback" not in message
    for fragment in fragments:
        assert fragment in message, message
    for secret in (FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN):
        assert secret not in message
    return message


def test_refused_connection(tmp_path):
    endpoint = f"http://127.0.0.1:{free_port()}"
    source = "s3://bucket/titanic"
    overrides = ["-P", f"data.source={source}", "-P", f"data.endpoint_url={endpoint}"]
    assert_fails(
        ["run", *overrides, "-P", f"output_dir={tmp_path / 'out'}"],
        f"{source}/train.csv",
        f"cannot connect to {endpoint}",
    )
    assert_fails(["data", "pull", "--to", str(tmp_path / "raw"), *overrides], "cannot connect")
    assert_fails(
        ["run", "-P", f"data.source={endpoint}/titanic"],
        f"{endpoint}/titanic/train.csv: cannot connect to {endpoint}: check data.source",
    )
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "raw").exists()


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP server on loopback that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop_event = threading.Event()

    def accept() -> None:
        while not stop_event.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop_event.set()
        thread.join(timeout=10)
        assert not thread.is_alive()
        for connection in accepted:
            connection.close()
        listener.close()


def test_silent_endpoint_times_out(silent_endpoint, monkeypatch, tmp_path):
    monkeypatch.setattr(storage, "READ_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(storage, "S3FS_RETRIES", 1)
    monkeypatch.setattr(storage, "BOTO_MAX_ATTEMPTS", 1)
    settings = data_settings(silent_endpoint, "s3://bucket/titanic")
    with pytest.raises(StorageError, match=f"no answer from {silent_endpoint}") as caught:
        pull(settings, tmp_path / "raw", verify=False)
    assert str(caught.value).startswith("s3://bucket/titanic/")
    with pytest.raises(StorageError, match=f"titanic/train.csv: no answer from {silent_endpoint}"):
        load_dataset(settings)
    assert not (tmp_path / "raw").exists()
    with pytest.raises(StorageError, match=f"no answer from {silent_endpoint}"):
        load_dataset(data_settings(None, silent_endpoint))


def test_bad_credentials(moto_auth_endpoint, tmp_path):
    source = "s3://bucket/titanic"
    overrides = ["-P", f"data.source={source}", "-P", f"data.endpoint_url={moto_auth_endpoint}"]
    assert_fails(
        ["run", *overrides], f"{source}/train.csv", f"access denied by {moto_auth_endpoint}"
    )
    assert_fails(["data", "push", *overrides], f"{source}/", "AWS_SECRET_ACCESS_KEY")


def test_missing_bucket(moto_endpoint, tmp_path):
    source = "s3://no-such-bucket-here/titanic"
    overrides = ["-P", f"data.source={source}", "-P", f"data.endpoint_url={moto_endpoint}"]
    expected = f"bucket 'no-such-bucket-here' does not exist on {moto_endpoint}"
    assert_fails(["run", *overrides], f"{source}/train.csv", expected)
    assert_fails(["data", "push", *overrides], expected)
    assert_fails(["data", "ls", *overrides], expected)
    assert_fails(["data", "pull", "--to", str(tmp_path / "raw"), *overrides], expected)
    assert not (tmp_path / "raw").exists()


def test_missing_key(moto_endpoint, pushed, tmp_path):
    overrides = [
        "-P",
        f"data.source={pushed}",
        "-P",
        f"data.endpoint_url={moto_endpoint}",
        "-P",
        "data.train_file=absent.csv",
    ]
    assert_fails(["run", *overrides], f"{pushed}/absent.csv: file not found")
    assert_fails(
        ["data", "pull", "--no-verify", "--to", str(tmp_path / "raw"), *overrides],
        f"{pushed}/absent.csv: file not found",
    )
    assert not (tmp_path / "raw").exists()


def test_checksum_mismatch_leaves_the_local_copy_untouched(moto_endpoint, pushed, tmp_path):
    settings = data_settings(moto_endpoint, pushed)
    local = tmp_path / "raw"
    pull(settings, local)
    before = tree_bytes(local)
    location = resolve_location(settings)
    tampered = (EMBEDDED / "train.csv").read_bytes().replace(b"Braund", b"Brand")
    location.filesystem.pipe_file(location.path_of("train.csv"), tampered)

    overrides = ["-P", f"data.source={pushed}", "-P", f"data.endpoint_url={moto_endpoint}"]
    message = assert_fails(
        ["data", "pull", "--to", str(local), *overrides],
        f"{pushed}/train.csv",
        "sha256 mismatch",
    )
    assert parse_checksums((EMBEDDED / CHECKSUMS).read_text(), "embedded")["train.csv"] in message
    assert tree_bytes(local) == before
    assert sorted(path.name for path in local.iterdir()) == [CHECKSUMS, "test.csv", "train.csv"]

    fresh = tmp_path / "fresh"
    assert_fails(["data", "pull", "--to", str(fresh), *overrides], "sha256 mismatch")
    assert not fresh.exists()

    listed = {file.name: file.status for file in list_files(settings)}
    assert listed == {"train.csv": "MISMATCH", "test.csv": "ok", CHECKSUMS: "unlisted"}


def test_pull_without_any_checksum_is_refused_unless_told(moto_endpoint, bucket, tmp_path):
    settings = data_settings(moto_endpoint, f"s3://{bucket}/bare")
    location = resolve_location(settings)
    for name in ("train.csv", "test.csv"):
        location.filesystem.pipe_file(location.path_of(name), (EMBEDDED / name).read_bytes())
    with pytest.raises(DataError, match="no sha256 to verify train.csv, test.csv"):
        pull(settings, tmp_path / "raw")
    assert not (tmp_path / "raw").exists()
    pulled = pull(settings, tmp_path / "raw", verify=False)
    assert [file.status for file in pulled] == ["unlisted", "unlisted"]


# --- secrets -----------------------------------------------------------------------------------


def test_credentials_reach_no_log_and_no_output_file(moto_endpoint, pushed, tmp_path):
    output = tmp_path / "out"
    result = invoke(
        "-vv",
        "run",
        *TINY,
        "-P",
        f"data.source={pushed}",
        "-P",
        f"data.endpoint_url={moto_endpoint}",
        "-P",
        f"output_dir={output}",
    )
    assert result.exit_code == 0, result.output
    assert f"reading {pushed}/train.csv" in result.output  # the debug log did run
    written = tree_bytes(output)
    assert "metrics.json" in written
    for secret in (FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN):
        assert secret not in result.output
        for name, content in written.items():
            assert secret.encode() not in content, name


@pytest.mark.slow
def test_report_rendered_from_s3_has_the_embedded_metrics_and_no_secret(
    moto_endpoint, pushed, embedded_metrics, tmp_path
):
    from titanic.report.render import RenderRequest, render_report

    # output_dir too: the report's shared cache lives there, not in the checkout's _output.
    overrides = [
        f"data.source={pushed}",
        f"data.endpoint_url={moto_endpoint}",
        f"output_dir={tmp_path / 'report'}",
    ]
    tiny = [value for value in TINY if value != "-P"]
    request = RenderRequest.resolve(
        Project.at(Path.cwd()), overrides=(*overrides, *tiny), formats=("html",), progress=False
    )
    result = render_report(request)
    document = json.loads(result.metrics.read_text())
    assert document["metrics"] == embedded_metrics["metrics"]
    html = result.html.read_text(encoding="utf-8")
    assert f"{pushed}/train.csv" in html
    assert f"(endpoint: <code>{moto_endpoint}</code>)" in html
    digest = embedded_metrics["data"]["files"]["train"]["sha256"]
    # The report shows the hash in four groups of 16 characters, so that it wraps.
    assert " ".join(digest[i : i + 16] for i in range(0, 64, 16)) in html
    for name, content in tree_bytes(tmp_path / "report").items():
        for secret in (FAKE_KEY_ID, FAKE_SECRET, FAKE_TOKEN):
            assert secret.encode() not in content, name


# --- bounded remote reads: a size cap and a total deadline ----------------------------------

CHUNK = b"PassengerId,Survived\n" * 3000  # 63 kB a write


class HostileHandler(http.server.BaseHTTPRequestHandler):
    """Streams CSV-looking bytes without end (up to a bound), or trickles one byte at a time."""

    mode = "endless"
    sent: list[int]
    stop: threading.Event
    ENDLESS_BOUND = 300_000_000  # bytes: the test client should stop long before
    TRICKLE_BYTES = 12  # one every two seconds: 24 s if the client never gives up

    def log_message(self, *args) -> None:
        return

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()

    def do_GET(self) -> None:
        self.do_HEAD()
        try:
            if self.mode == "endless":
                while self.sent[0] < self.ENDLESS_BOUND and not self.stop.is_set():
                    self.wfile.write(CHUNK)
                    self.sent[0] += len(CHUNK)
            else:
                for byte in b"PassengerId"[: self.TRICKLE_BYTES]:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    self.sent[0] += 1
                    if self.stop.wait(2):
                        break
        except (BrokenPipeError, ConnectionResetError):
            return


def serve_hostile(mode: str) -> Iterator[tuple[str, list[int]]]:
    sent, stop = [0], threading.Event()
    handler = type("Handler", (HostileHandler,), {"mode": mode, "sent": sent, "stop": stop})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", sent
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.fixture
def endless_server() -> Iterator[tuple[str, list[int]]]:
    yield from serve_hostile("endless")


@pytest.fixture
def trickling_server() -> Iterator[tuple[str, list[int]]]:
    yield from serve_hostile("trickle")


def test_an_endless_download_stops_at_the_size_cap(endless_server):
    url, sent = endless_server
    settings = data_settings(None, url, "data.max_bytes=1000000")
    with pytest.raises(StorageError) as caught:
        load_dataset(settings)
    assert str(caught.value) == (
        f"{url}/train.csv: more than data.max_bytes = 1000000 bytes; stopped reading there."
        " If the file is right, raise the limit, e.g. -P data.max_bytes=2000000"
    )
    # Socket buffers hold a few MB at most: nowhere near the server's 300 MB.
    assert sent[0] < 50_000_000


def test_a_trickling_server_is_given_up_at_the_deadline(trickling_server):
    url, sent = trickling_server
    settings = data_settings(None, url, "data.timeout_seconds=3")
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        load_dataset(settings)
    elapsed = time.monotonic() - started
    assert 2.5 < elapsed < 6, elapsed
    assert str(caught.value) == (
        f"{url}/train.csv: not read within data.timeout_seconds = 3 s (the whole download);"
        " a slow or stalled server? Raise the limit, e.g. -P data.timeout_seconds=6"
    )
    assert 0 < sent[0] < HostileHandler.TRICKLE_BYTES


def test_cli_size_cap_is_one_line(endless_server, tmp_path):
    url, _ = endless_server
    assert_fails(
        ["run", "-P", f"data.source={url}", "-P", "data.max_bytes=100000"],
        f"{url}/train.csv: more than data.max_bytes = 100000 bytes",
    )


@pytest.mark.parametrize(
    ("override", "key"),
    [("data.max_bytes=0", "data.max_bytes"), ("data.timeout_seconds=-1", "data.timeout_seconds")],
)
def test_limits_must_be_positive(override, key):
    with pytest.raises(ConfigError, match=key):
        data_settings(None, "embedded", override)


def test_a_checksums_file_is_read_within_the_size_cap(tmp_path):
    lines = "".join(f"{'a' * 64}  file{index}.csv\n" for index in range(3))  # 3 x 76 bytes
    (tmp_path / CHECKSUMS).write_text(lines)
    assert len(read_checksums(folder_location(tmp_path, max_bytes=1000))) == 3
    with pytest.raises(DataError, match="SHA256SUMS: 228 bytes, more than data.max_bytes = 100"):
        read_checksums(folder_location(tmp_path, max_bytes=100))


def test_a_missing_checksums_file_reads_as_no_checksums(tmp_path):
    assert read_checksums(folder_location(tmp_path)) == {}


def folder_location(folder, **extra):
    """The location of a local data folder."""
    settings = DataSettings(
        source=str(folder), train_file="train.csv", test_file="test.csv", **extra
    )
    return resolve_location(settings)
