"""Runs app.py as a subprocess on a free port, for the browser tests and scripts/measure_app.py.

Also holds the Chromium flags those use: Debian's /usr/bin/chromium, headless, offline (no DNS but
loopback), and a fake camera (add --use-file-for-fake-video-capture=FILE, a .y4m that loops).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


@dataclass(frozen=True)
class Server:
    url: str
    frame_log: Path  # FLOWREP_FRAME_LOG: one JSON line per webcam frame
    output: Path  # the server's stdout and stderr
    process: subprocess.Popen

    def frames(self) -> list[dict]:
        if not self.frame_log.exists():
            return []
        return [json.loads(line) for line in self.frame_log.read_text().splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(work: Path, **env: str) -> Iterator[Server]:
    """Runs `python app.py` on a free port, with its own temp dir, frame log and workout history,
    until the block ends."""
    work.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = work / "frames.jsonl"
    output = work / "server.log"
    full_env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_TEMP_DIR": str(work / "gradio"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "NO_PROXY": "127.0.0.1,localhost",
        "FLOWREP_FRAME_LOG": str(log),
        "FLOWREP_DB": str(work / "flowrep.db"),
        **env,
    }  # never the user's own workout history
    with open(output, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}/", log, output, process)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_serving(server: Server, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"app.py exited ({server.process.returncode}):\n{server.output.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"app.py did not serve within {timeout_s:.0f} s:\n{server.output.read_text()[-3000:]}")


def start_webcam(page, url: str, navigate: bool = True) -> None:
    """Opens the page (unless it is open already), lets it use the (fake) camera, and presses Record."""
    if navigate:
        page.goto(url)
    open_camera(page)
    press_record(page)


def open_camera(page) -> None:
    """Lets the open page use the (fake) camera and waits for its picture."""
    page.locator("#cam").get_by_text("Click to Access Webcam").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('#cam video'); return v && v.readyState >= 2 && v.videoWidth > 0; }",
        timeout=20_000,
    )


def press_record(page) -> None:
    page.locator("#cam button[aria-label='capture photo']").click()
