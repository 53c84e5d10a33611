"""What runs inside a count worker (flowrep.ui.workers starts it): the job a server sends, the
worker's loop, and counting one clip with its exports and its progress messages.

A worker imports this module and nothing of the page: it must not import Gradio.
"""

from __future__ import annotations

import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

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
