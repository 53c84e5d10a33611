"""The Webcam tab: a live count of the visitor's camera, the side-by-side view, the probability chart
(throttled), the messages about a camera that sends nothing usable, and the reset button."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import cv2
import gradio as gr
import numpy as np

from flowrep import viz
from flowrep.pipeline import FrameError, FrameResult, FrameSizeChanged, Session
from flowrep.ui.engine import Engine, FrameLog
from flowrep.ui.widgets import (
    CHART_WINDOW_S,
    STREAM_EVERY_S,
    SetClock,
    camera,
    count_markdown,
    empty_chart,
    side_by_side,
)

CHART_EVERY_S = 0.33  # a Plotly figure per frame would double the stream's latency
LIVE_HISTORY = int(3 * CHART_WINDOW_S / STREAM_EVERY_S)  # frames of probabilities kept per webcam session
BLANK_AFTER_S = 2.0  # this long of black frames and the page says so
BLANK_MESSAGE = ("**The camera is sending only black (or blank) frames.** Is the lens covered, "
                 "or is another app using the camera?")

Updates = dict[Any, Any]  # {output component: its new value}; outputs left out stay as they are


@dataclass
class Live:
    """One browser session's webcam set, made on its first frame (gr.State deep-copies initial
    values, and a Session holds the shared model, so none is made at import)."""

    session: Session | None = None
    clock: SetClock = field(default_factory=SetClock)
    times: deque[float] = field(default_factory=lambda: deque(maxlen=LIVE_HISTORY))
    probabilities: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=LIVE_HISTORY))
    chart_at: float = 0.0
    shown_count: int | None = None
    blank_since: float | None = None
    status: str = ""
    reset_requested: bool = False  # set by the reset button, applied by the stream's thread

    def timestamp(self, now: float) -> float:
        return self.clock.timestamp(now)

    def new_set(self) -> None:
        if self.session is not None:
            self.session.reset()
        self.clock.restart()
        self.times.clear()
        self.probabilities.clear()
        self.shown_count, self.blank_since, self.chart_at = None, None, 0.0


@dataclass(frozen=True)
class WebcamComponents:
    live: gr.State
    cam: gr.Image
    view: gr.Image
    count: gr.Markdown
    chart: gr.Plot
    status: gr.Markdown
    reset: gr.Button


def is_blank(frame: np.ndarray) -> bool:
    small = frame[::8, ::8]
    return int(small.max()) < 20 or float(small.std()) < 1.0


class WebcamTab:
    """The tab's handlers, one instance per server, shared by every visitor; layout() makes its components."""

    def __init__(self, engine: Engine, frame_log: FrameLog) -> None:
        self.engine = engine
        self.log = frame_log
        self._ui: WebcamComponents | None = None

    @property
    def ui(self) -> WebcamComponents:
        if self._ui is None:
            raise RuntimeError("WebcamTab.layout() makes the components; call it inside a gr.Blocks first")
        return self._ui

    def layout(self) -> None:
        """The tab's components and events (inside build_demo's Webcam tab)."""
        live = gr.State(None)  # a Live, made on this session's first frame
        with gr.Row():
            with gr.Column(scale=1):
                cam = camera("cam")
                gr.HTML("<div id='cam_watchdog' style='color:#b00020;font-weight:600'></div>")  # see page.js
            with gr.Column(scale=2):
                view = gr.Image(label="Camera | flow", format="jpeg", interactive=False, elem_id="live_view")
        with gr.Row():
            with gr.Column(scale=1, min_width=180):
                count = gr.Markdown(count_markdown(0), elem_id="live_count")
                reset = gr.Button("New set (reset count)", elem_id="reset_btn")
                status = gr.Markdown("", elem_id="live_status")
            with gr.Column(scale=4):
                chart = gr.Plot(empty_chart(), show_label=False, elem_id="live_plot")
        gr.Markdown("Press **Record** to start counting; stand so your whole movement is in view.")
        ui = self._ui = WebcamComponents(live, cam, view, count, chart, status, reset)
        cam.stream(self.frame, inputs=[cam, live], outputs=[ui.view, ui.count, ui.chart, ui.status, live],
                   stream_every=STREAM_EVERY_S, time_limit=None, concurrency_limit=None, show_progress="hidden",
                   api_visibility="private")
        reset.click(self.reset, inputs=[live], outputs=[ui.count, ui.chart, ui.status, live],
                    api_visibility="private", queue=False)

    def frame(self, frame_rgb: np.ndarray | None, live: Live | None) -> Updates:
        """One camera frame in; the side-by-side view, count, chart (throttled), status and state out."""
        ui = self.ui
        live = live if isinstance(live, Live) else Live()
        arrived, arrived_wall = time.monotonic(), time.time()
        if not self.engine.ready():
            return {ui.status: f"**{self.engine.error}**", ui.live: live}
        if frame_rgb is None or frame_rgb.size == 0:
            return {ui.status: "**The camera sent an empty frame.**", ui.live: live}
        if live.reset_requested:
            live.reset_requested = False
            live.new_set()
        status = self._blank_status(frame_rgb, live, arrived)
        frame = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        live.session = live.session or self.engine.new_session()
        try:
            result = live.session.process(frame, live.timestamp(arrived))
        except FrameSizeChanged as error:  # the camera switched resolution: start a new set
            live.new_set()
            result = live.session.process(frame, live.timestamp(arrived))
            status = f"The camera changed ({error}); a new set has started."
        except FrameError as error:
            return {ui.status: f"**The camera's picture cannot be counted:** {error}.", ui.live: live}
        live.times.append(result.time_s)
        live.probabilities.append(result.probabilities)
        updates: Updates = {ui.view: side_by_side(frame, result, result.count), ui.live: live}
        if arrived - live.chart_at >= CHART_EVERY_S:
            live.chart_at = arrived
            updates[ui.chart] = viz.probability_figure(list(live.times), list(live.probabilities), CHART_WINDOW_S)
        if result.count != live.shown_count:
            live.shown_count = result.count
            updates[ui.count] = count_markdown(result.count)
        if status != live.status:
            updates[ui.status] = status
        live.status = status
        self._log_frame(frame, result, arrived, arrived_wall)
        return updates

    def _blank_status(self, frame_rgb: np.ndarray, live: Live, now: float) -> str:
        if not is_blank(frame_rgb):
            live.blank_since = None
            return ""
        live.blank_since = live.blank_since or now
        if now - live.blank_since < BLANK_AFTER_S:
            return live.status
        return BLANK_MESSAGE

    def _log_frame(self, frame: np.ndarray, result: FrameResult, arrived: float, arrived_wall: float) -> None:
        entry: dict[str, Any] = {"wall": arrived_wall, "t": result.time_s, "w": frame.shape[1],
                                 "h": frame.shape[0], "count": result.count, "flow": result.flow_bgr is not None,
                                 "ms": round(1000 * (time.monotonic() - arrived), 2)}
        if result.rep is not None:
            entry["rep_end_wall"] = arrived_wall - (result.time_s - result.rep.end_s)
        self.log.write(**entry)

    def reset(self, live: Live | None) -> Updates:
        ui = self.ui
        live = live if isinstance(live, Live) else Live()
        if live.session is None:
            live.new_set()
        else:  # a stream may be mid-frame on another thread: let it start the new set itself
            live.reset_requested = True
        return {ui.count: count_markdown(0), ui.chart: empty_chart(),
                ui.status: "New set: the count starts again from 0.", ui.live: live}
