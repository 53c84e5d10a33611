"""Clips counted in worker processes: a native crash (a decoder's segfault, an abort in OpenCV or
torch) fails that one clip with a clear message while the server and every other visitor go on, and
two clips use both cores.

Not concurrent.futures.ProcessPoolExecutor: when one of its workers dies, every job in flight on any
of its workers fails with BrokenProcessPool, so a crash would cost the other visitor their clip too.
Here each worker is a fresh Python process (see _Worker) with its own socket, one clip at a time: a
worker that dies fails only its own clip, and a fresh one takes its place. It loads the model as it
starts, writes the clip's exports (annotated video, reps CSV) itself, and sends back what the page
shows a few times a second (the latest side-by-side view, the count, the probabilities since the
last message), then the result. A visitor who leaves cancels the clip (checked at every frame); a
worker that does not answer the cancel is killed and replaced. A worker imports this module: it
must not import Gradio.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

import cv2
import numpy as np

from flowrep import viz
from flowrep.model import WeightsError
from flowrep.pipeline import ClipResult, FrameResult, Session, count_clip
from flowrep.redact import without_paths
from flowrep.signals import ProbabilitySource, make_signal
from flowrep.video import VideoError

#: Seconds a worker waits between progress messages (the page's refresh).
PROGRESS_EVERY_S = 0.3
#: Seconds a cancelled worker has to stop before it is killed and replaced.
CANCEL_WAIT_S = 5.0
_POLL_S = 0.25


class WorkerCrashed(Exception):
    """The process counting a clip died (a crash in native code): str() is the message for people."""


class Cancelled(Exception):
    """The clip was cancelled (the visitor left, or a newer upload replaced it)."""


@dataclass(frozen=True)
class Job:
    """One clip for a worker: out_dir receives the exports (None: none, as for /count);
    progress_every_s None sends no progress (only the result)."""

    path: str
    max_seconds: float | None = None
    out_dir: str | None = None
    progress_every_s: float | None = PROGRESS_EVERY_S


@dataclass
class Progress:
    """What the page shows while a clip is counted, gathered from the worker's messages."""

    index: int = 0  # frames counted so far
    total: int = 0  # frames the header claims (0: it does not say)
    view: np.ndarray | None = None  # RGB side-by-side of the latest frame and its flow
    count: int = 0
    times: list[float] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class Counted:
    result: ClipResult
    video: Path | None  # the exports, when the job had an out_dir
    reps_csv: Path | None


# ------------------------------------------------------------------ in the worker

JobFunction = Callable[[Connection, ProbabilitySource, Job], None]


def count_job(conn: Connection, source: ProbabilitySource, job: Job) -> None:
    """Counts job.path and sends ("progress", ...) messages, then ("done", result, video, csv) or
    ("video_error", problem) / ("cancelled",) / ("error", text). Runs in the worker."""
    exports = viz.ClipExports(job.path, job.out_dir) if job.out_dir is not None else None
    times: list[float] = []
    probabilities: list[np.ndarray] = []
    state: dict[str, Any] = {"sent_at": time.monotonic(), "sent": 0, "last": None}

    def send_progress(index: int, total: int) -> None:
        frame, result = state["last"]
        view = cv2.cvtColor(viz.side_by_side(frame, result.flow_bgr, result.count, crop=result.crop), cv2.COLOR_BGR2RGB)
        conn.send(
            ("progress", index, total, view, result.count, times[state["sent"] :], probabilities[state["sent"] :])
        )
        state["sent"], state["sent_at"] = len(times), time.monotonic()

    def on_frame(index: int, total: int, result: FrameResult, frame: np.ndarray) -> None:
        if conn.poll() and conn.recv() == "cancel":
            raise Cancelled()
        if exports is not None:
            exports.on_frame(index, total, result, frame)
        times.append(result.time_s)
        probabilities.append(result.probabilities)
        state["last"] = (frame, result)
        if job.progress_every_s is not None and time.monotonic() - state["sent_at"] >= job.progress_every_s:
            send_progress(index + 1, total)

    try:
        result = count_clip(
            job.path,
            Session(source),
            on_frame if exports or job.progress_every_s else None,
            max_seconds=job.max_seconds,
        )
        video, reps_csv = exports.finish(result) if exports is not None else (None, None)
    except BaseException as error:
        if exports is not None:
            exports.abort()
        if isinstance(error, VideoError):
            conn.send(("video_error", error.problem))
        elif isinstance(error, Cancelled):
            conn.send(("cancelled",))
        elif isinstance(error, Exception):
            traceback.print_exc()
            conn.send(("error", without_paths(str(error))))
        else:
            raise
        return
    if job.progress_every_s is not None and state["last"] is not None:
        send_progress(result.frames, result.frames)  # the last frame, with every probability not yet sent
    conn.send(("done", result, video and str(video), reps_csv and str(reps_csv)))


def _load(signal_name: str, weights: str) -> tuple[ProbabilitySource | None, str]:
    """The probability source, warmed up on one blank frame (torch's first call is slow), or why not."""
    try:
        source = make_signal(signal_name, weights)  # type: ignore[arg-type]
        session = Session(source)
        blank = np.zeros((120, 160, 3), np.uint8)
        session.process(blank, 0.0)
        session.process(blank, 0.1)
    except (WeightsError, ValueError) as error:
        return None, f"the model could not be loaded: {without_paths(str(error))}"
    return source, ""


def serve(fd: str, signal_name: str, weights: str) -> None:
    """A worker's life (see _Worker): jobs from the socket `fd`, one at a time, until it closes or None comes."""
    conn = Connection(int(fd))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it stops us
    source, problem = _load(signal_name, weights)  # before the first clip comes
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if message == "cancel":  # a cancel that came after its job had ended
            continue
        function, job = message
        if source is None:  # the weights may have been fixed since
            source, problem = _load(signal_name, weights)
        if source is None:
            conn.send(("error", problem))
            continue
        function(conn, source, job)


# ------------------------------------------------------------------ in the server


class _Worker:
    """A worker process: `python -c "...serve(FD)..."`, talking over one end of a socket pair.

    A fresh interpreter rather than multiprocessing's spawn or fork server: those import the server's
    main module (app.py, and with it Gradio) into every worker; fork would copy a threaded server."""

    def __init__(self, signal_name: str, weights: Path) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        code = "import sys; from flowrep.ui.workers import serve; serve(*sys.argv[1:])"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno()), signal_name, str(weights)],
                pass_fds=[theirs.fileno()],
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())

    def is_alive(self) -> bool:
        return self.process.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        if self.is_alive():
            self.process.kill()

    def join(self, timeout: float) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.join(2.0)
        if self.is_alive():
            self.kill()
            self.process.wait()
        self.conn.close()


def crash_text(exitcode: int | None) -> str:
    """What a visitor reads when the worker counting their clip died."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f" ({signal.Signals(-exitcode).name})"
        except ValueError:
            how = f" (signal {-exitcode})"
    else:
        how = f" (exit code {exitcode})" if exitcode else ""
    return (
        f"the process counting it crashed{how}, most likely in the video decoder; the file may be "
        "damaged or unusual. Other clips are not affected: try again, or re-encode the clip (H.264 mp4)."
    )


class CountPool:
    """Up to `size` worker processes, each counting one clip at a time; see the module's docstring."""

    def __init__(self, signal_name: str, weights: Path, size: int = 2) -> None:
        self.signal_name = signal_name
        self.weights = weights
        self.size = size
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._started = 0
        self.crashes = 0

    def warm_up(self) -> None:
        """Starts every worker now rather than on the first clips."""
        with self._lock:
            while self._started < self.size:
                self._idle.put(_Worker(self.signal_name, self.weights))
                self._started += 1

    def close(self) -> None:
        with self._lock:
            while True:
                try:
                    self._idle.get_nowait().stop()
                except queue.Empty:
                    break
                self._started -= 1

    def run(self, job: Job, function: JobFunction = count_job) -> Run:
        """A clip being counted: iterate it for the progress, then call result(). Use it as a context
        manager, so that a clip left early is cancelled and its worker given back."""
        return Run(self, self._acquire(), job, function)

    def count(self, job: Job, function: JobFunction = count_job) -> Counted:
        """Counts a clip without progress (for /count); raises VideoError, WorkerCrashed or RuntimeError."""
        with self.run(job, function) as running:
            for _ in running:
                pass
            return running.result()

    def _acquire(self) -> _Worker:
        """An idle worker that is alive (one that died while idle is replaced), or a new one."""
        while True:
            with self._lock:
                try:
                    worker = self._idle.get_nowait()
                except queue.Empty:
                    worker = None
                    if self._started < self.size:
                        self._started += 1
                        try:
                            return _Worker(self.signal_name, self.weights)
                        except BaseException:
                            self._started -= 1
                            raise
            worker = worker or self._idle.get()
            if worker.is_alive():
                return worker
            self._release(worker, healthy=False)

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if healthy:
            self._idle.put(worker)
            return
        worker.stop(kill=True)
        with self._lock:  # its replacement starts now (it loads the model before the next clip comes)
            try:
                self._idle.put(_Worker(self.signal_name, self.weights))
            except OSError:
                self._started -= 1


class Run:
    """One clip on one worker: iterating yields the Progress after each of the worker's messages."""

    def __init__(self, pool: CountPool, worker: _Worker, job: Job, function: JobFunction) -> None:
        self.pool, self.worker, self.job = pool, worker, job
        self.progress = Progress()
        self._outcome: tuple[Any, ...] | None = None
        try:
            worker.conn.send((function, job))
        except OSError:
            self._outcome = ("crashed", worker.exitcode)

    def __enter__(self) -> Self:
        return self

    def __iter__(self) -> Iterator[Progress]:
        while self._outcome is None:
            message = self._receive()
            if message is None:
                continue
            if message[0] == "progress":
                _, index, total, view, count, times, probabilities = message
                seen = self.progress
                seen.index, seen.total, seen.view, seen.count = index, total, view, count
                seen.probabilities.extend(probabilities)  # before times: readers slice by len(times)
                seen.times.extend(times)
                yield seen
            else:
                self._outcome = message

    def _receive(self) -> tuple[Any, ...] | None:
        conn, process = self.worker.conn, self.worker
        try:
            if conn.poll(_POLL_S):
                return conn.recv()
        except (EOFError, OSError):
            pass
        else:
            if process.is_alive():
                return None
        process.join(1.0)
        self.pool.crashes += 1
        return ("crashed", process.exitcode)

    def result(self) -> Counted:
        """The clip's result; raises VideoError (the clip), WorkerCrashed, Cancelled or RuntimeError."""
        for _ in self:  # the rest of the progress, if not read
            pass
        outcome = self._outcome
        assert outcome is not None
        kind, *rest = outcome
        if kind == "done":
            result, video, reps_csv = rest
            return Counted(result, video and Path(video), reps_csv and Path(reps_csv))
        if kind == "video_error":
            raise VideoError(self.job.path, rest[0])
        if kind == "crashed":
            raise WorkerCrashed(crash_text(rest[0]))
        if kind == "cancelled":
            raise Cancelled()
        raise RuntimeError(rest[0])

    def __exit__(self, *exc: object) -> None:
        if self._outcome is None:  # left early: cancel, and wait (a little) for the worker to stop
            self._cancel()
        crashed = self._outcome is not None and self._outcome[0] == "crashed"
        self.pool._release(self.worker, healthy=not crashed and self.worker.is_alive())

    def _cancel(self) -> None:
        try:
            self.worker.conn.send("cancel")
        except OSError:
            self._outcome = ("crashed", self.worker.exitcode)
            return
        deadline = time.monotonic() + CANCEL_WAIT_S
        while self._outcome is None and time.monotonic() < deadline:
            message = self._receive()
            if message is not None and message[0] != "progress":
                self._outcome = message
        if self._outcome is None:  # it did not stop: kill it (a fresh one takes its place)
            self._outcome = ("crashed", None)
            self.worker.kill()


def pool_size() -> int:
    """FLOWREP_WORKERS, else 2 (or 1 on a one-core machine)."""
    return max(1, int(os.environ.get("FLOWREP_WORKERS", str(min(2, os.cpu_count() or 1)))))
