"""Pieces more than one tab uses: the webcam input and its settings, the big count, the side-by-side
picture, the probability chart's window, a camera set's clock, and the page's JS and CSS files."""

from __future__ import annotations

from dataclasses import dataclass
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
