"""A reader with headless Chromium: open a site's root, follow every link, record every request.

Chromium is driven through its DevTools protocol over a WebSocket (aiohttp's client). Host names
resolve to nothing (``--host-resolver-rules``), so a page that reaches for the network fails
loudly instead of leaving the machine; the crawl also records every URL a page requested.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

import aiohttp
import psutil

from titanic.report.pdf import find_chromium

DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")
PAGE_SECONDS = 20
LINKS_SCRIPT = (
    "JSON.stringify({url: location.href,"
    " links: Array.from(document.querySelectorAll('a[href]'), a => a.href)})"
)


@dataclass
class Crawl:
    """What a reader met: pages by URL with their depth in clicks, and every problem."""

    landing: str = ""
    depth: dict[str, int] = field(default_factory=dict)
    links: dict[str, list[str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Tab:
    """One Chromium page, attached through a flat DevTools session."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse):
        self.socket = socket
        self.ids = itertools.count(1)
        self.session = ""
        self.events: deque[dict[str, Any]] = deque()
        self.network: list[dict[str, Any]] = []

    def _received(self, message: dict[str, Any]) -> None:
        self.events.append(message)
        if str(message.get("method", "")).startswith("Network."):
            self.network.append(message)

    async def call(self, method: str, session: bool = True, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        await self.socket.send_json(message)
        while True:
            received = await self.socket.receive_json(timeout=PAGE_SECONDS)
            if received.get("id") == message_id:
                if "error" in received:
                    raise RuntimeError(f"{method}: {received['error']}")
                return received.get("result", {})
            self._received(received)

    async def wait_for(self, method: str, seconds: float) -> bool:
        """Read events until ``method`` arrives (True) or ``seconds`` pass (False)."""
        deadline = time.monotonic() + seconds
        while True:
            while self.events:
                if self.events.popleft().get("method") == method:
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                self._received(await self.socket.receive_json(timeout=left))
            except TimeoutError:
                return False


@contextlib.asynccontextmanager
async def chromium_tab(chromium: str) -> AsyncIterator[Tab]:
    """Start headless Chromium on 127.0.0.1 and yield a tab."""
    with tempfile.TemporaryDirectory(prefix="titanic-browser-") as profile:
        process = subprocess.Popen(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: its helpers end with it
        )  # fmt: skip
        try:
            address = None
            assert process.stderr is not None
            for line in process.stderr:
                found = DEVTOOLS_LINE.search(line)
                if found:
                    address = found.group(1)
                    break
            assert address, "Chromium printed no DevTools address"
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(address, max_msg_size=0) as socket,
            ):
                tab = Tab(socket)
                target = await tab.call("Target.createTarget", session=False, url="about:blank")
                attached = await tab.call(
                    "Target.attachToTarget", session=False, targetId=target["targetId"],
                    flatten=True,
                )  # fmt: skip
                tab.session = attached["sessionId"]
                await tab.call("Page.enable")
                await tab.call("Network.enable")
                yield tab
        finally:
            end_process_group(process)


def end_process_group(process: subprocess.Popen) -> None:
    """Kill Chromium and every helper process of its group, and wait until none is left.

    Killing the browser process alone left its helpers writing into the profile folder, whose
    removal then failed now and then ("Directory not empty: 'Default'").
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while living_members(process.pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"Chromium's process group {process.pid} outlived SIGKILL")
        time.sleep(0.05)


def living_members(group: int) -> list[int]:
    """Return the processes of a process group that have not exited (zombies excepted)."""
    members = []
    for candidate in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(candidate.pid) == group and candidate.info["status"] != "zombie":
                members.append(candidate.pid)
    return members


def _inside(url: str, base: str) -> bool:
    return url.startswith(base)


def _reachable(url: str) -> bool:
    """Tell whether a non-HTML link's target exists: a file on disk, or a 200 over HTTP."""
    if url.startswith("file://"):
        return Path(unquote(urlsplit(url).path)).is_file()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except urllib.error.URLError:
        return False


async def _open(tab: Tab, url: str, crawl: Crawl, follow_refresh: bool) -> dict[str, Any]:
    """Load ``url``, record its requests and failures, and return its final URL and links."""
    tab.events.clear()
    await tab.call("Page.navigate", url=url)
    loaded = await tab.wait_for("Page.loadEventFired", PAGE_SECONDS)
    if follow_refresh:  # the root's meta refresh opens the live version's landing page
        await tab.wait_for("Page.loadEventFired", 5)
    await tab.wait_for("Network.never", 0.3)  # let late requests show up
    seen = await tab.call("Runtime.evaluate", expression=LINKS_SCRIPT, returnByValue=True)
    page = json.loads(seen["result"]["value"])
    if not loaded:
        crawl.problems.append(f"{url}: did not finish loading")
    return page


def _network_problems(events: list[dict[str, Any]], page: str, base: str, crawl: Crawl) -> None:
    for event in events:
        params = event.get("params", {})
        if event.get("method") == "Network.requestWillBeSent":
            requested = params["request"]["url"]
            crawl.requests.append(requested)
            if not requested.startswith("data:") and not _inside(requested, base):
                crawl.problems.append(f"{page}: requested outside the site: {requested}")
        elif event.get("method") == "Network.responseReceived":
            status = params["response"].get("status", 0)
            if status >= 400:
                crawl.problems.append(f"{page}: {params['response']['url']} answered {status}")
        elif event.get("method") == "Network.loadingFailed" and not params.get("canceled"):
            crawl.problems.append(f"{page}: a request failed: {params.get('errorText')}")


async def _crawl(chromium: str, root: str) -> Crawl:
    base = root.rsplit("/", 1)[0] + "/"
    crawl = Crawl()
    async with chromium_tab(chromium) as tab:
        queue: deque[tuple[str, int]] = deque()

        async def visit(url: str, follow_refresh: bool = False) -> dict[str, Any]:
            tab.network.clear()
            page = await _open(tab, url, crawl, follow_refresh)
            _network_problems(tab.network, url, base, crawl)
            return page

        first = await visit(root, follow_refresh=True)
        crawl.landing = urldefrag(first["url"])[0]
        if crawl.landing == root:
            crawl.problems.append(f"{root}: does not lead to a landing page")
        queue.append((crawl.landing, 0))
        crawl.depth[crawl.landing] = 0
        pages = {crawl.landing: first}
        while queue:
            url, depth = queue.popleft()
            page = pages.get(url) or await visit(url)
            if urldefrag(page["url"])[0] != url:
                crawl.problems.append(f"{url}: opened {page['url']} instead")
            targets = [urldefrag(link)[0] for link in page["links"]]
            crawl.links[url] = targets
            for target in targets:
                if not _inside(target, base):
                    crawl.problems.append(f"{url}: links outside the site: {target}")
                elif target not in crawl.depth:
                    crawl.depth[target] = depth + 1
                    if target.endswith(".html"):
                        queue.append((target, depth + 1))
                    elif not _reachable(target):
                        crawl.problems.append(f"{url}: broken link {target}")
    return crawl


def crawl_site(root: str) -> Crawl:
    """Open ``root`` (a site's index.html) in headless Chromium and follow every link."""
    chromium = find_chromium()
    assert chromium, "no Chromium"
    return asyncio.run(_crawl(chromium, root))
