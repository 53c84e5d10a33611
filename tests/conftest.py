"""Shared fixtures: small clips made on the fly (one good, the rest each broken in one way), and
the real clips in ../shared/data (tests that need them skip when the folder is absent).

The demo page's fixtures (a running app.py, headless Chromium with a fake camera) are in
app_support.py, imported by test_app.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest

from flowrep.model import use_one_thread

use_one_thread()  # as the entry points that count do (the CLI, the page, Ray workers)

ROOT = Path(__file__).resolve().parent.parent
# app.py and scripts/ (democlips, the fake camera's clip) are importable by the tests, in any import order.
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
SHARED_DATA = ROOT.parent / "shared" / "data"

from apprunner import CHROMIUM  # noqa: E402  (scripts/, on the path just above)


def _write(path: Path, frames: Iterable[np.ndarray], fps: float) -> Path:
    writer = None
    for frame in frames:
        if writer is None:
            height, width = frame.shape[:2]
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
        writer.write(frame)
    assert writer is not None
    writer.release()
    return path


def bobbing_square(reps: int = 4, fps: float = 25.0, size: tuple[int, int] = (160, 120)) -> list[np.ndarray]:
    """A textured square moving down and back up `reps` times over a textured background: 152 frames."""
    rng = np.random.default_rng(0)
    width, height = size
    coarse = rng.integers(0, 256, (12, 16, 3)).astype(np.uint8)
    background = cv2.resize(coarse, size, interpolation=cv2.INTER_NEAREST)
    square = cv2.resize(rng.integers(0, 256, (4, 4, 3)).astype(np.uint8), (40, 40), interpolation=cv2.INTER_NEAREST)
    still, cycle = 1.0, 1.2
    offsets = [0.0] * int(still * fps)
    for _ in range(reps):
        n = int(cycle * fps)
        offsets += [0.5 - 0.5 * np.cos(2 * np.pi * k / n) for k in range(n)]
    offsets += [0.0] * (152 - len(offsets))
    frames = []
    for offset in offsets:
        frame = background.copy()
        top = 10 + int(round(offset * (height - 60)))
        frame[top : top + 40, width // 2 - 20 : width // 2 + 20] = square
        frames.append(frame)
    return frames


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    good = _write(folder / "good.mp4", bobbing_square(), 25.0)
    text = folder / "text.mp4"
    text.write_text("not a video\n")
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    one_frame = _write(folder / "one_frame.mp4", bobbing_square()[:1], 25.0)
    too_large = _write(folder / "too_large.mp4", [np.zeros((2592, 4608, 3), np.uint8)] * 2, 25.0)  # over 4K
    # The good clip filmed at 2048×1536 (over full HD, as a phone's camera may film): shrunk as it is read.
    large = (cv2.resize(f, (2048, 1536), interpolation=cv2.INTER_NEAREST) for f in bobbing_square())
    large_good = _write(folder / "large_good.mp4", large, 25.0)
    return {
        "good": good,
        "missing": folder / "missing.mp4",
        "text": text,
        "empty": empty,
        "truncated": truncated,
        "one_frame": one_frame,
        "too_large": too_large,
        "large_good": large_good,
    }


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real clips are not here ({SHARED_DATA} is absent)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cnn_signal():
    """The shipped CNN as the counter's signal, loaded once per test process (the real-clip tests')."""
    from flowrep.signals import make_signal

    return make_signal("cnn")


@pytest.fixture(scope="session", autouse=True)
def workout_history_in_tmp(tmp_path_factory: pytest.TempPathFactory):
    """FLOWREP_DB points at a tmp file for every test (and the app.py subprocesses they start), so no
    test reads or writes the real ~/.flowrep/flowrep.db."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLOWREP_DB", str(tmp_path_factory.mktemp("history") / "flowrep.db"))
        yield


#: The fixtures that open Debian's Chromium (app_support.py); a test that uses one is a browser test.
BROWSER_FIXTURES = {"browser", "context", "chromium"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test that drives Chromium `browser` (whether through a fixture or by its own mark),
    so that scripts/test.sh can run them alone, in real time, after the rest; they skip, saying why,
    where Chromium is absent."""
    absent = pytest.mark.skip(reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        if item.get_closest_marker("browser") and not Path(CHROMIUM).exists():
            item.add_marker(absent)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keeps each phase's report on the test (item.rep_call, ...), so that a fixture can tell at
    teardown whether its test failed (the browser fixtures then keep screenshots)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
