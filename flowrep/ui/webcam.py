"""The Webcam tab: a live count of the visitor's camera, the side-by-side view, the probability chart
(throttled), the messages about a camera that sends nothing usable or too few frames, an optional target per set with
sounds (workout_sounds.js: a blip per rep, a chord at the target), and the finished sets (webcam_sets.py):
a set ends with "Finish set" or when the camera stops sending pictures; "Discard set" starts again."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import cv2
import gradio as gr
import numpy as np

from flowrep import viz
from flowrep.pipeline import FrameError, FrameResult, FrameSizeChanged, Session
from flowrep.ui.engine import Engine, FrameLog, RunFolders
from flowrep.ui.webcam_sets import SetList, empty_table, set_message
from flowrep.ui.widgets import (
    CHART_WINDOW_S,
    STREAM_EVERY_S,
    CameraRate,
    SetClock,
    asset_text,
    camera,
    count_markdown,
    empty_chart,
    side_by_side,
)

CHART_EVERY_S = 0.33  # a Plotly figure per frame would double the stream's latency
LIVE_HISTORY = int(3 * CHART_WINDOW_S / STREAM_EVERY_S)  # frames of probabilities kept per webcam session
BLANK_AFTER_S = 2.0  # this long of black frames and the page says so
CAMERA_STOPPED_S = 2.0  # no frame for this long: the camera has stopped, and the set ends
TICK_S = 1.0  # how often the page asks whether the camera has stopped, while a set is open
RECENT_SOUNDS = 6  # cues the hidden sound box repeats (see workout_sounds.js)
BLANK_MESSAGE = (
    "**The camera is sending only black (or blank) frames.** Is the lens covered, or is another app using the camera?"
)
Updates = dict[Any, Any]  # {output component: its new value}; outputs left out stay as they are


def _now() -> float:
    """The tab's clock (monotonic seconds); tests replace it to feed a clip at its own pace."""
    return time.monotonic()


@dataclass
class Live:
    """One browser session's webcam set, made on its first frame (gr.State deep-copies initial
    values, and a Session holds the shared model, so none is made at import)."""

    session: Session | None = None
    clock: SetClock = field(default_factory=SetClock)
    times: deque[float] = field(default_factory=lambda: deque(maxlen=LIVE_HISTORY))
    rate: CameraRate = field(default_factory=CameraRate)
    probabilities: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=LIVE_HISTORY))
    chart_at: float = 0.0
    shown_count: tuple[int, int | None] | None = None  # (count, target) last shown
    blank_since: float | None = None
    status: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)  # the stream's, the buttons' and the timer's threads
    sets: SetList = field(default_factory=SetList)
    last_frame_at: float | None = None  # None: no frame since the set began (the timer is off)
    sound_number: int = 0
    recent_sounds: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_SOUNDS))

    def timestamp(self, now: float) -> float:
        return self.clock.timestamp(now)

    def new_set(self) -> None:
        if self.session is not None:
            self.session.reset()
        self.clock.restart()
        self.times.clear()
        self.rate.restart()
        self.probabilities.clear()
        self.shown_count, self.blank_since, self.chart_at, self.last_frame_at = None, None, 0.0, None

    def cue(self, kind: str) -> str:
        """The sound box's new text: the last few numbered cues, newest last (see workout_sounds.js)."""
        self.sound_number += 1
        self.recent_sounds.append(f"{self.sound_number}:{kind}")
        return "webcam " + " ".join(self.recent_sounds)


@dataclass(frozen=True)
class WebcamComponents:
    live: gr.State
    cam: gr.Image
    view: gr.Image
    count: gr.Markdown
    chart: gr.Plot
    status: gr.Markdown
    reset: gr.Button
    target: gr.Number
    sound: gr.Textbox
    sets: gr.Dataframe
    sets_csv: gr.File
    timer: gr.Timer


def is_blank(frame: np.ndarray) -> bool:
    small = frame[::8, ::8]
    return int(small.max()) < 20 or float(small.std()) < 1.0


class WebcamTab:
    """The tab's handlers, one instance per server, shared by every visitor; layout() makes its components."""

    def __init__(self, engine: Engine, frame_log: FrameLog, runs: RunFolders) -> None:
        self.engine = engine
        self.log = frame_log
        self.runs = runs
        self._ui: WebcamComponents | None = None

    @property
    def ui(self) -> WebcamComponents:
        if self._ui is None:
            raise RuntimeError("WebcamTab.layout() makes the components; call it inside a gr.Blocks first")
        return self._ui

    def layout(self) -> None:
        """The tab's components and events (inside build_demo's Webcam tab). The camera and the count come
        first, side by side (stacked on a phone, page.css), then the views and chart, then the sets."""
        live = gr.State(None)  # a Live, made on this session's first frame
        with gr.Row(elem_id="live_top"):
            with gr.Column(scale=2, min_width=300):
                cam = camera("cam")
            with gr.Column(scale=2, min_width=240, elem_id="live_side"):
                count = gr.Markdown(count_markdown(0), elem_id="live_count")
                status = gr.Markdown("", elem_id="live_status")
                gr.HTML("<div id='cam_watchdog' style='color:#b00020;font-weight:600'></div>")  # see page.js
                with gr.Row():
                    target = gr.Number(
                        0, label="Target reps (0: none)", precision=0, minimum=0, elem_id="live_target", min_width=120
                    )
                    mute = gr.Checkbox(False, label="Mute sounds", elem_id="live_mute", min_width=100)
                with gr.Row():
                    finish = gr.Button("Finish set", variant="primary", elem_id="finish_btn", min_width=100)
                    reset = gr.Button("Discard set", elem_id="reset_btn", min_width=100)
            with gr.Column(scale=4, min_width=300):
                view = gr.Image(label="Camera | flow", format="jpeg", interactive=False, elem_id="live_view")
                chart = gr.Plot(empty_chart(), show_label=False, elem_id="live_plot")
        gr.Markdown(
            "### Your sets\nEach set ends with **Finish set** or when the camera stops. Time: from the "
            "first rep's start to the last one's end; tempo: seconds a rep; speed loss: how much slower "
            "the last reps were than the first (from four reps)."
        )
        with gr.Row():
            sets = gr.Dataframe(empty_table(), interactive=False, show_label=False, elem_id="live_sets", scale=3)
            sets_csv = gr.File(label="Sets as CSV", interactive=False, height=90, elem_id="live_sets_csv", scale=1)
        sound = gr.Textbox(visible="hidden", elem_id="live_sound")
        timer = gr.Timer(TICK_S, active=False)
        ui = self._ui = WebcamComponents(
            live, cam, view, count, chart, status, reset, target, sound, sets, sets_csv, timer
        )
        private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        set_outputs = [ui.count, ui.chart, ui.status, ui.sets, ui.sets_csv, ui.timer, live]
        cam.stream(
            self.frame,
            inputs=[cam, live, target],
            outputs=[ui.view, ui.sound, ui.timer, *set_outputs],
            stream_every=STREAM_EVERY_S,
            time_limit=None,
            concurrency_limit=None,
            **private,
        )
        timer.tick(self.tick, inputs=[live, target], outputs=set_outputs, concurrency_limit=None, **private)
        finish.click(self.finish_set, inputs=[live, target], outputs=set_outputs, queue=False, **private)
        reset.click(
            self.reset, inputs=[live, target], outputs=[ui.count, ui.chart, ui.status, live], queue=False, **private
        )
        target.change(self.set_target, inputs=[live, target], outputs=[ui.count], queue=False, **private)
        sound.change(None, inputs=[sound, mute], js=asset_text("workout_sounds.js"), **private)

    def frame(self, frame_rgb: np.ndarray | None, live: Live | None, target: float | None = None) -> Updates:
        """One camera frame in; the side-by-side view, count, chart (throttled), sound, status and state out."""
        ui = self.ui
        live = live if isinstance(live, Live) else Live()
        arrived, arrived_wall = _now(), time.time()
        if not self.engine.ready():
            return {ui.status: f"**{self.engine.error}**", ui.live: live}
        if frame_rgb is None or frame_rgb.size == 0:
            return {ui.status: "**The camera sent an empty frame.**", ui.live: live}
        with live.lock:
            return self._frame(frame_rgb, live, _target(target), arrived, arrived_wall)

    def _frame(
        self, frame_rgb: np.ndarray, live: Live, target: int | None, arrived: float, arrived_wall: float
    ) -> Updates:
        ui = self.ui
        status = self._blank_status(frame_rgb, live, arrived)
        frame = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        live.session = live.session or self.engine.new_session()
        updates: Updates = {ui.live: live}
        before = live.session.count
        try:
            result = live.session.process(frame, live.timestamp(arrived))
        except FrameSizeChanged as error:  # the camera switched resolution: the set so far ends, a new one starts
            updates.update(self._end_set(live, target))
            result = live.session.process(frame, live.timestamp(arrived))
            before, status = 0, f"The camera changed ({error}); a new set has started."
        except FrameError as error:
            return {**updates, ui.status: f"**The camera's picture cannot be counted:** {error}."}
        if live.last_frame_at is None:  # a set's first frame: the timer watches for the camera stopping
            updates[ui.timer] = gr.Timer(active=True)
        live.last_frame_at = arrived
        live.times.append(result.time_s)
        live.rate.add(result.time_s)
        live.probabilities.append(result.probabilities)
        status = status or live.rate.status()
        updates[ui.view] = side_by_side(frame, result, result.count)
        if arrived - live.chart_at >= CHART_EVERY_S:
            live.chart_at = arrived
            updates[ui.chart] = viz.probability_figure(list(live.times), list(live.probabilities), CHART_WINDOW_S)
        if result.count > before:
            reached = target is not None and before < target <= result.count
            updates[ui.sound] = live.cue("target" if reached else "rep")
        shown = (result.count, target)
        if shown != live.shown_count:
            live.shown_count = shown
            updates[ui.count] = count_markdown(result.count, target)
        if status != live.status:
            updates[ui.status] = status
        live.status = status
        self._log_frame(frame, result, arrived, arrived_wall)
        return updates

    def finish_set(self, live: Live | None, target: float | None = None) -> Updates:
        """The "Finish set" button: the set so far is listed (if it has reps) and a new one starts."""
        live = live if isinstance(live, Live) else Live()
        with live.lock:
            return self._end_set(live, _target(target))

    def tick(self, live: Live | None, target: float | None = None) -> Updates:
        """The timer, while a set is open: a camera that has sent nothing for CAMERA_STOPPED_S ends the set."""
        if not isinstance(live, Live) or live.last_frame_at is None:
            return {self.ui.timer: gr.Timer(active=False)}
        with live.lock:
            if live.last_frame_at is None or _now() - live.last_frame_at < CAMERA_STOPPED_S:
                return gr.skip()
            return self._end_set(live, _target(target))

    def _end_set(self, live: Live, target: int | None) -> Updates:
        """Lists the set (a set without reps is not) and starts a new one; the timer waits for its first frame."""
        ui = self.ui
        record, live_count = None, None
        if live.session is not None:
            live.session.finish()  # its final count, on its whole evidence (as `flowrep bench --webcam` counts)
            record = live.sets.add(live.session.reps, live.session.analysis(), target)
            live_count = live.session.live_count_at_end
        live.new_set()
        live.shown_count = (0, target)
        updates: Updates = {
            ui.count: count_markdown(0, target),
            ui.chart: empty_chart(),
            ui.status: set_message(record, live_count),
            ui.timer: gr.Timer(active=False),
            ui.live: live,
        }
        if record is not None:
            updates[ui.sets] = live.sets.table()
            updates[ui.sets_csv] = str(live.sets.write_csv(self.runs.new() / "webcam-sets.csv"))
        return updates

    def set_target(self, live: Live | None, target: float | None) -> Updates:
        count = live.session.count if isinstance(live, Live) and live.session is not None else 0
        return {self.ui.count: count_markdown(count, _target(target))}

    def _blank_status(self, frame_rgb: np.ndarray, live: Live, now: float) -> str:
        if not is_blank(frame_rgb):
            live.blank_since = None
            return ""
        live.blank_since = live.blank_since or now
        if now - live.blank_since < BLANK_AFTER_S:
            return live.status
        return BLANK_MESSAGE

    def _log_frame(self, frame: np.ndarray, result: FrameResult, arrived: float, arrived_wall: float) -> None:
        entry: dict[str, Any] = {
            "wall": arrived_wall,
            "t": result.time_s,
            "w": frame.shape[1],
            "h": frame.shape[0],
            "count": result.count,
            "flow": result.flow_bgr is not None,
            "ms": round(1000 * (time.monotonic() - arrived), 2),
        }
        if result.rep is not None:
            entry["rep_end_wall"] = arrived_wall - (result.time_s - result.rep.end_s)
        self.log.write(**entry)

    def reset(self, live: Live | None, target: float | None = None) -> Updates:
        """The "Discard set" button: the count starts again from 0 and the set is not listed."""
        ui = self.ui
        live = live if isinstance(live, Live) else Live()
        with live.lock:  # the stream's thread may be mid-frame
            live.new_set()
            live.shown_count = (0, _target(target))
        return {
            ui.count: count_markdown(0, _target(target)),
            ui.chart: empty_chart(),
            ui.status: "New set: the count starts again from 0.",
            ui.live: live,
        }


def _target(value: float | None) -> int | None:
    """The target box's value as a number of reps; empty, zero or less means no target."""
    try:
        whole = int(value) if value is not None else 0
    except (TypeError, ValueError):
        return None
    return whole if whole > 0 else None
