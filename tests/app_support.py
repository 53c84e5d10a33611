"""Fixtures and helpers for the demo page's tests: test clips, a running app.py, headless Chromium.

The browser is Debian's /usr/bin/chromium driven by Playwright (never `playwright install`), with a
fake camera that loops a scripted clip. Tests that need it skip when Chromium is absent.
Imported by test_app.py (fixtures defined here are registered by that import).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import apprunner  # noqa: E402
import democlips  # noqa: E402
from apprunner import CHROMIUM, CHROMIUM_ARGS, Server, open_camera, start_webcam  # noqa: E402,F401

from flowrep.model import DEFAULT_WEIGHTS  # noqa: E402

#: The engine the tests run: the product's CNN when its weights are there, else the hand-made signal.
SIGNAL = os.environ.get("FLOWREP_TEST_SIGNAL") or ("cnn" if DEFAULT_WEIGHTS.is_file() else "mean-flow")
#: The fake camera's clip: still, WEBCAM_REPS slow squats, then still long enough to see no extra
#: count before Chromium loops the file.
WEBCAM_REPS = 3
WEBCAM_CLIP = dict(exercise="squat", reps=WEBCAM_REPS, period_s=2.2, lead_in_s=3.0, tail_s=6.0, fps=15.0)
#: Test-only limits (FLOWREP_MAX_CLIP_S, FLOWREP_MAX_UPLOAD_MB), so that clips over them are cheap to make.
TEST_MAX_CLIP_S = 30.0
TEST_MAX_UPLOAD_MB = 1

#: A test that drives Chromium itself: run after the rest, alone (conftest.py skips it without Chromium).
needs_chromium = pytest.mark.browser


@dataclass(frozen=True)
class AppClips:
    webcam_y4m: Path  # the fake camera's file
    webcam_mp4: Path  # the same frames as H.264, for `flowrep count`
    upload_webm: Path  # browser-playable VP8, for the upload tab
    portrait_mov: Path  # a phone-style clip: landscape pixels, a rotation tag that makes it portrait
    too_long_mp4: Path  # longer than TEST_MAX_CLIP_S
    too_big_mp4: Path  # larger than TEST_MAX_UPLOAD_MB
    not_video: Path  # a text file named .mp4
    truncated: Path  # the first third of an mp4


@pytest.fixture(scope="session")
def app_clips(tmp_path_factory: pytest.TempPathFactory) -> AppClips:
    out = tmp_path_factory.mktemp("app_clips")
    frames = democlips.scripted_clip(**WEBCAM_CLIP, size=(320, 240), noise=0.0)
    fps = WEBCAM_CLIP["fps"]
    webcam_mp4 = democlips.write_mp4(frames, fps, out / "webcam_squats.mp4")
    upload = democlips.scripted_clip(
        "squat", reps=2, period_s=1.6, lead_in_s=0.5, tail_s=1.0, fps=15.0, size=(320, 240), seed=1, noise=0.0
    )
    landscape = democlips.scripted_clip(
        "squat", reps=2, period_s=1.6, lead_in_s=0.5, tail_s=1.0, fps=15.0, size=(320, 240), seed=2, noise=0.0
    )
    not_video = out / "notes.mp4"
    not_video.write_text("these are my workout notes, not a video\n")
    truncated = out / "truncated.mp4"
    truncated.write_bytes(webcam_mp4.read_bytes()[: webcam_mp4.stat().st_size // 3])
    too_big = out / "too_big.mp4"
    too_big.write_bytes(webcam_mp4.read_bytes() + bytes(int(1.2e6 * TEST_MAX_UPLOAD_MB)))
    landscape_mp4 = democlips.write_mp4(landscape, 15.0, out / "landscape.mp4")
    return AppClips(
        webcam_y4m=democlips.write_y4m(frames, fps, out / "webcam_squats.y4m"),
        webcam_mp4=webcam_mp4,
        upload_webm=democlips.write_opencv(upload, 15.0, out / "two_squats.webm", "VP80"),
        portrait_mov=democlips.transcode(
            landscape_mp4, out / "phone_portrait.mov", ["-c", "copy"], ["-display_rotation", "90"]
        ),
        too_long_mp4=democlips.write_mp4([frames[0]] * int((TEST_MAX_CLIP_S + 5) * 5), 5.0, out / "too_long.mp4"),
        too_big_mp4=too_big,
        not_video=not_video,
        truncated=truncated,
    )


def cli_count(clip: Path) -> dict:
    """What `flowrep count CLIP --json` prints, with the tests' signal (the CLI run in process)."""
    from cli_support import run_cli

    done = run_cli(["count", str(clip), "--json", "--signal", SIGNAL])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def page_tabs(work: Path, history_path: Path | None = None):
    """The page's tabs in process, laid out in a gr.Blocks (no server), so that tests can call their
    handlers and read the {component: value} updates they return; work holds the run folders."""
    from flowrep.limits import ClipLimits
    from flowrep.ui.engine import Engine, FrameLog, RunFolders, Services
    from flowrep.ui.page import Tabs, build_demo

    services = Services(Engine(SIGNAL, DEFAULT_WEIGHTS), FrameLog(None), RunFolders(work), ClipLimits())
    tabs = Tabs.create(services, history_path)
    build_demo(services, tabs=tabs)
    return tabs


def running_app(work: Path, **env: str):
    """app.py with the tests' engine and small upload limits (see apprunner.running_app)."""
    limits = {"FLOWREP_MAX_CLIP_S": str(TEST_MAX_CLIP_S), "FLOWREP_MAX_UPLOAD_MB": str(TEST_MAX_UPLOAD_MB)}
    return apprunner.running_app(work, **{"FLOWREP_SIGNAL": SIGNAL, **limits, **env})


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_app(tmp_path_factory.mktemp("app")) as srv:
        yield srv


#: FLOWREP_SCREENSHOTS=docs/screenshots (relative to the repo, or absolute): the browser tests also write
#: the README's screenshots there (see readme_shot); unset, they write none.
README_SHOTS_ENV = "FLOWREP_SCREENSHOTS"
README_SHOT_MAX_BYTES = 300_000


def readme_shot(page, name: str, top: str, bottom: str, margin: int = 12) -> Path | None:
    """Saves the page from element `top`'s top to element `bottom`'s bottom (CSS selectors), full width, as
    FLOWREP_SCREENSHOTS/name, when that is set; reduced to a 256-colour palette to stay small."""
    folder = os.environ.get(README_SHOTS_ENV)
    if not folder:
        return None
    from PIL import Image

    path = (ROOT / folder if not Path(folder).is_absolute() else Path(folder)) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    box = page.evaluate(
        "([a, b]) => { const t = document.querySelector(a).getBoundingClientRect(),"
        " u = document.querySelector(b).getBoundingClientRect();"
        " return [t.top + window.scrollY, u.bottom + window.scrollY, document.body.scrollWidth]; }",
        [top, bottom],
    )
    y0 = max(0, box[0] - margin)
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": y0, "width": box[2], "height": box[1] + margin - y0}
    )
    with Image.open(path) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    assert path.stat().st_size < README_SHOT_MAX_BYTES, f"{path} is {path.stat().st_size} bytes"
    return path


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where browser tests save screenshots (under pytest's tmp dir; printed with -s)."""
    path = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {path}")
    return path


@pytest.fixture(scope="session")
def browser(app_clips: AppClips):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={app_clips.webcam_y4m}"],
        )
        yield chromium
        chromium.close()


BrowserRun = Callable[..., Any]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserRun]:
    """A Chromium of the module's own, on a thread of its own (the sync API allows one Playwright per
    thread, and test_app.py's session-wide `browser` holds the main thread's), with the same fake camera:
    run(fn, *args) calls fn(browser, *args) on that thread and returns its result."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    frames = democlips.scripted_clip(**WEBCAM_CLIP, size=(320, 240), noise=0.0)
    camera = democlips.write_y4m(frames, WEBCAM_CLIP["fps"], tmp_path_factory.mktemp("camera") / "squats.y4m")
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
    held: dict[str, Any] = {}

    def launch() -> None:
        from playwright.sync_api import sync_playwright

        held["playwright"] = sync_playwright().start()
        held["browser"] = held["playwright"].chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera}"],
        )

    def close() -> None:
        held["browser"].close()
        held["playwright"].stop()

    thread.submit(launch).result(timeout=120)

    def run(fn: Callable[..., Any], *args: Any) -> Any:
        def guarded() -> Any:
            try:
                return fn(held["browser"], *args)
            except BaseException:
                keep_failure_screenshots(held["browser"].contexts, fn.__name__)
                raise

        return thread.submit(guarded).result(timeout=300)

    try:
        yield run
    finally:
        thread.submit(close).result(timeout=60)
        thread.shutdown()


@pytest.fixture()
def context(browser, request: pytest.FixtureRequest):
    context = browser.new_context(
        viewport={"width": 1280, "height": 1300}, permissions=["camera"], accept_downloads=True
    )
    yield context
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        keep_failure_screenshots([context], request.node.name)
    context.close()


#: Where a failed browser test leaves a screenshot of each page it had open (ignored by git).
ARTIFACTS = ROOT / "test-artifacts"


def keep_failure_screenshots(contexts: Iterable[Any], test_name: str) -> None:
    """Saves every open page of `contexts` as test-artifacts/<test>-<n>.png, so that a failure can be
    seen after the run; a page that cannot be drawn any more is skipped."""
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", test_name)[:100]
    pages = [page for context in contexts for page in context.pages]
    for number, page in enumerate(pages, 1):
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True, timeout=10_000)
        except Exception as error:  # a crashed or closed page: the failure's own message says enough
            print(f"no screenshot of page {number} of {test_name}: {error}")


# ---------------------------------------------------------------- page helpers


def count_on(page, elem_id: str) -> int:
    """The number in a count box; its text also holds a status timer while streaming, hence the regex."""
    match = re.search(r"(\d+)\s*reps?\b", page.locator(f"#{elem_id}").inner_text())
    assert match, page.locator(f"#{elem_id}").inner_text()
    return int(match.group(1))


def plot_series(page, elem_id: str) -> dict[str, int]:
    """{series name: number of points} of a gr.Plot's Plotly chart ({} before it has drawn)."""
    return page.evaluate(
        "(id) => { const p = document.querySelector(`#${id} .js-plotly-plot`);"
        " return p && p.data ? Object.fromEntries(p.data.map(d => [d.name, (d.x || []).length])) : {}; }",
        elem_id,
    )


def wait_for_count(page, elem_id: str, at_least: int, timeout_s: float) -> tuple[int, float]:
    """Polls a count until it reaches at_least; returns (the highest count seen, seconds waited)."""
    started = time.monotonic()
    highest = 0
    while time.monotonic() - started < timeout_s:
        highest = max(highest, count_on(page, elem_id))
        if highest >= at_least:
            break
        time.sleep(0.1)
    return highest, time.monotonic() - started


#: Watches the camera's picture (#cam video) ten times a second: window.flowrepStill.since is when its
#: picture last went still after moving (null while it moves, or before it has been seen to move).
WATCH_STILLNESS_JS = """() => {
  const video = document.querySelector('#cam video');
  const canvas = document.createElement('canvas');
  canvas.width = 32; canvas.height = 24;
  const context = canvas.getContext('2d', {willReadFrequently: true});
  const state = window.flowrepStill = {moved: false, since: null};
  let last = null;
  setInterval(() => {
    context.drawImage(video, 0, 0, 32, 24);
    const pixels = context.getImageData(0, 0, 32, 24).data;
    if (last) {
      let change = 0;
      for (let i = 0; i < pixels.length; i += 4) change += Math.abs(pixels[i] - last[i]);
      if (change / (pixels.length / 4) > 1.0) { state.moved = true; state.since = null; }
      else if (state.moved && state.since === null) state.since = performance.now();
    }
    last = pixels.slice();
  }, 100);
}"""


def record_in_a_still_spell(page, settled_s: float = 1.0, fresh_s: float = 5.5, timeout_s: float = 40.0) -> None:
    """Presses Record while the camera's picture is in a still spell that began (after motion) between
    `settled_s` and `fresh_s` ago, so that the set sees whole reps only: the fake camera loops a clip
    whose still spells last 9 s, and where Chromium is in it for a second capture depends on load.
    The page must have called `watch_stillness` on its open camera."""
    page.wait_for_function(
        f"() => {{ const s = window.flowrepStill; if (!s || s.since === null) return false;"
        f" const age = performance.now() - s.since; return age >= {settled_s * 1000} && age <= {fresh_s * 1000}; }}",
        timeout=timeout_s * 1000,
        polling=100,
    )
    apprunner.press_record(page)


def watch_stillness(page) -> None:
    """Starts the page's watch on its open camera's picture (see record_in_a_still_spell)."""
    page.evaluate(WATCH_STILLNESS_JS)
