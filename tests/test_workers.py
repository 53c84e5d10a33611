"""Clips counted in worker processes (flowrep.ui.workers): the same counts as in process, progress
while counting, and a worker that crashes fails its own clip only."""

from __future__ import annotations

import os
import signal
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from app_support import app_clips  # noqa: F401  (a fixture)

from flowrep.model import DEFAULT_WEIGHTS
from flowrep.pipeline import Session, count_clip
from flowrep.signals import ProbabilitySource
from flowrep.ui.count_worker import Job, count_job
from flowrep.ui.workers import CountPool, WorkerCrashed
from flowrep.video import VideoError

SIGNAL = "cnn" if DEFAULT_WEIGHTS.is_file() else "mean-flow"


def segfault_job(conn: Connection, source: ProbabilitySource, job: Job) -> None:
    """A native crash in the middle of a clip, as a decoder's bug would cause."""
    os.kill(os.getpid(), signal.SIGSEGV)


def abort_job(conn: Connection, source: ProbabilitySource, job: Job) -> None:
    os.abort()


@pytest.fixture(scope="module")
def pool():
    pool = CountPool(SIGNAL, DEFAULT_WEIGHTS, size=2)
    yield pool
    pool.close()


def test_a_clip_counts_in_a_worker_as_in_process_with_progress_and_exports(
    pool: CountPool, clips: dict[str, Path], tmp_path: Path
) -> None:
    expected = count_clip(clips["good"], Session(SIGNAL))
    with pool.run(Job(str(clips["good"]), 600.0, str(tmp_path), progress_every_s=0.0)) as running:
        updates = [(seen.index, seen.count) for seen in running]
        counted = running.result()
    assert counted.result.count == expected.count and counted.result.frames == expected.frames
    assert [r.end_s for r in counted.result.reps] == [r.end_s for r in expected.reps]
    assert len(updates) > 10 and updates[-1][0] == expected.frames
    seen = running.progress
    assert len(seen.times) == len(seen.probabilities) == expected.frames and seen.view is not None
    assert counted.video is not None and counted.video.stat().st_size > 0
    assert counted.reps_csv is not None and counted.reps_csv.read_text().count("\n") == expected.count + 1
    assert pool.count(Job(str(clips["good"]), progress_every_s=None)).result.count == expected.count


def test_a_bad_clip_is_the_clips_error_and_the_worker_goes_on(pool: CountPool, clips: dict[str, Path]) -> None:
    with pytest.raises(VideoError, match="truncated|damaged") as error:
        pool.count(Job(str(clips["truncated"])))
    assert error.value.path == str(clips["truncated"])
    assert pool.count(Job(str(clips["good"]))).result.count > 0


@pytest.mark.parametrize("crash", [segfault_job, abort_job])
def test_a_crash_fails_that_clip_only_and_the_next_clip_counts(pool: CountPool, clips: dict[str, Path], crash) -> None:
    crashes = pool.crashes
    other: dict[str, object] = {}

    def count_beside() -> None:  # another visitor's clip, on the other worker at the same time
        try:
            other["count"] = sum(pool.count(Job(str(clips["good"]))).result.count for _ in range(3))
        except Exception as error:  # noqa: BLE001
            other["error"] = error

    beside = threading.Thread(target=count_beside)
    beside.start()
    with pytest.raises(WorkerCrashed, match="crashed .*SIG(SEGV|ABRT).*Other clips are not affected"):
        pool.count(Job(str(clips["good"])), crash)
    beside.join()
    assert pool.crashes == crashes + 1
    assert "error" not in other and other["count"] == 3 * count_clip(clips["good"], Session(SIGNAL)).count
    assert pool.count(Job(str(clips["good"]))).result.count > 0  # a fresh worker took its place
    assert pool.count(Job(str(clips["good"])), count_job).result.count > 0


def test_a_clip_left_early_is_cancelled_and_its_worker_kept(
    pool: CountPool, clips: dict[str, Path], tmp_path: Path
) -> None:
    with pool.run(Job(str(clips["good"]), out_dir=str(tmp_path), progress_every_s=0.0)) as running:
        next(iter(running))
    assert running.worker.is_alive()
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.csv"))  # the exports went with it
    assert pool.count(Job(str(clips["good"]))).result.count > 0


# ---------------------------------------------------------------- a live server


def _children(pid: int) -> list[int]:
    """Every process under pid (from /proc), not pid itself."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _has_open(pid: int, name: str) -> bool:
    try:
        return any(os.readlink(fd).endswith("/" + name) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_a_segfault_in_a_live_servers_worker_fails_that_upload_only(tmp_path: Path, app_clips) -> None:  # noqa: F811
    import time

    import democlips
    from app_support import WEBCAM_REPS, running_app
    from gradio_client import Client, handle_file

    frames = democlips.scripted_clip(
        "squat", reps=12, period_s=2.0, lead_in_s=2.0, tail_s=2.0, fps=15.0, size=(320, 240), seed=3, noise=0.0
    )
    long_clip = democlips.write_mp4(frames, 15.0, tmp_path / "long_squats.mp4")
    with running_app(tmp_path / "app") as server:
        victim = Client(server.url, verbose=False).submit(handle_file(str(long_clip)), api_name="/analyze")
        deadline = time.monotonic() + 60
        while not (counting := [p for p in _children(server.process.pid) if _has_open(p, long_clip.name)]):
            assert time.monotonic() < deadline and not victim.done(), "no worker opened the clip"
            time.sleep(0.02)
        bystander = Client(server.url, verbose=False).submit(handle_file(str(app_clips.webcam_mp4)), api_name="/count")
        os.kill(counting[0], signal.SIGSEGV)
        status = victim.result()[3]
        assert "crashed (SIGSEGV)" in status and "long_squats.mp4" in status, status
        assert bystander.result()["count"] == WEBCAM_REPS  # the other visitor's clip, on the other worker
        client = Client(server.url, verbose=False)
        assert client.predict(handle_file(str(long_clip)), api_name="/count")["count"] == 12
        assert server.process.poll() is None
