"""Pieces more than one tab uses: the webcam input and its settings, the big count, the side-by-side
picture, the probability chart's window, a camera set's clock, the check of the camera's frame rate,
and the page's JS and CSS files."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from importlib import resources

import cv2
import gradio as gr
import numpy as np
import plotly.graph_objects as go

from flowrep import viz
from flowrep.conditions import CAMERA_FPS
from flowrep.pipeline import FrameResult
from flowrep.plans import unit_for

STREAM_EVERY_S = 1.0 / CAMERA_FPS  # seconds between the frames the browser sends
CHART_WINDOW_S = 8.0
#: Below this many frames a second reaching the counter (over RATE_WINDOW_S), a camera tab says counts
#: may be off: the live counter is made for the camera's 10, and the exercise clips delivered as
#: `flowrep bench --webcam` delivers them but at 8, 6 and 4 frames/s gave MAE 0.017, 0.042 and 0.057
#: (0.007 at 10; docs/experiments.md, session 24).
SLOW_CAMERA_FPS = 6.0
RATE_WINDOW_S = 3.0
SLOW_MESSAGE = (
    "**The camera's pictures reach the counter at only {fps:.0f} a second** (it is made for 10), so reps"
    " may be missed. Other tabs or apps busy on this computer, or a slow connection, can cause it."
)


def camera(elem_id: str) -> gr.Image:
    """A streaming webcam input at 640×480 if the camera offers it. mirror=True (Gradio's default) flips
    the frames the server gets, like a mirror; it changes no count, and the view then matches what the
    visitor sees."""
    return gr.Image(
        sources=["webcam"],
        streaming=True,
        type="numpy",
        label="Camera",
        elem_id=elem_id,
        webcam_options=gr.WebcamOptions(
            mirror=True, constraints={"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}}
        ),
    )


def count_markdown(count: int, target: int | None = None) -> str:
    """The big count: '# 3' over 'reps', or 'reps of 5' with a target (and a tick once it is reached)."""
    of = "" if target is None else f" of {target}{' ✓' if count >= target else ''}"
    return f"# {count}\n{unit_for(count, 'rep')}{of}"


def empty_chart() -> go.Figure:
    return viz.probability_figure([], [], CHART_WINDOW_S)


def side_by_side(frame_bgr: np.ndarray, result: FrameResult, count: int | None) -> np.ndarray:
    """The picture the page shows (RGB): the frame, its flow, the count shown (if any) and the crop the
    CNN looked at."""
    return cv2.cvtColor(viz.side_by_side(frame_bgr, result.flow_bgr, count, crop=result.crop), cv2.COLOR_BGR2RGB)


@dataclass
class SetClock:
    """A camera set's clock: seconds since its first frame, from arrival times, strictly increasing
    (the Session refuses a timestamp that does not move on)."""

    t0: float | None = None
    last_t: float = -1.0

    def timestamp(self, now: float) -> float:
        if self.t0 is None:
            self.t0 = now
        self.last_t = max(now - self.t0, self.last_t + 1e-3)
        return self.last_t

    def restart(self) -> None:
        self.t0, self.last_t = None, -1.0


def asset_text(name: str) -> str:
    """A JS or CSS file shipped in this package (package data, so a non-editable install has it too)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@dataclass
class CameraRate:
    """The frames a second that reach the counter over the last RATE_WINDOW_S of a run of frames, and
    SLOW_MESSAGE when that is below SLOW_CAMERA_FPS (said once the run has lasted RATE_WINDOW_S)."""

    times: deque[float] = field(default_factory=deque)  # the last RATE_WINDOW_S's frames
    began_s: float | None = None

    def add(self, time_s: float) -> None:
        self.began_s = time_s if self.began_s is None else self.began_s
        self.times.append(time_s)
        while self.times[0] < time_s - RATE_WINDOW_S:
            self.times.popleft()

    def restart(self) -> None:
        """A new run of frames (a new set, or the camera back after a break)."""
        self.times.clear()
        self.began_s = None

    def status(self) -> str:
        if self.began_s is None or self.times[-1] - self.began_s < RATE_WINDOW_S:
            return ""
        fps = (len(self.times) - 1) / RATE_WINDOW_S
        return SLOW_MESSAGE.format(fps=fps) if fps < SLOW_CAMERA_FPS else ""
