"""FlowRep's demo page: `python app.py` serves a live webcam rep counter and a clip uploader.

Owns the page: its layout, per-browser-session state, throttling of screen updates, upload limits
and the messages users see. Counting is flowrep.pipeline's; drawing and exports are flowrep.viz's
(the same ones `flowrep count --out-dir` uses), so the page holds no logic the CLI lacks.

Environment: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio's own; default 127.0.0.1:7860),
FLOWREP_SIGNAL (cnn, the default, or mean-flow), FLOWREP_WEIGHTS (a .safetensors file),
FLOWREP_MAX_UPLOAD_MB (200) and FLOWREP_MAX_CLIP_S (600) for the upload limits, and FLOWREP_FRAME_LOG
(a JSONL file that gets one line per webcam frame, for tests and measurements).
"""
from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: nothing leaves the machine

import json
import shutil
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import gradio as gr
import numpy as np
import pandas as pd  # plotly imports pandas lazily; two threads doing that at once can crash

from flowrep import viz
from flowrep.model import DEFAULT_WEIGHTS, WeightsError
from flowrep.pipeline import ClipResult, FrameError, FrameResult, Session, count_clip
from flowrep.signals import ProbabilitySource, make_signal
from flowrep.video import MAX_FRAME_SIDES, VideoError, probe

ROOT = Path(__file__).resolve().parent
EXAMPLES_DIR = ROOT / "examples"
MAX_UPLOAD_MB = int(os.environ.get("FLOWREP_MAX_UPLOAD_MB", "200"))
MAX_CLIP_S = float(os.environ.get("FLOWREP_MAX_CLIP_S", "600"))
STREAM_EVERY_S = 0.1  # ~10 frames/s from the browser
CHART_WINDOW_S = 8.0
CHART_EVERY_S = 0.33  # a Plotly figure per frame would double the stream's latency
LIVE_HISTORY = int(3 * CHART_WINDOW_S / STREAM_EVERY_S)  # frames of probabilities kept per webcam session
UPLOAD_UPDATE_EVERY_S = 0.3
BLANK_AFTER_S = 2.0  # this long of black frames and the page says so
KEEP_FILES_S = 1800  # outputs (annotated videos, CSVs, preview frames) are deleted after this
CLIP_TYPES = [".mp4", ".mov", ".webm", ".avi", ".m4v", ".mkv"]
TABLE_HEADERS = ["rep", "start (s)", "end (s)", "duration (s)"]


def _duration_text(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


LIMITS_TEXT = (f"Clips: mp4, mov, webm or avi · at most **{MAX_UPLOAD_MB} MB** "
               f"and **{_duration_text(MAX_CLIP_S)}** · "
               f"frames up to {MAX_FRAME_SIDES[0]}×{MAX_FRAME_SIDES[1]} (portrait too). "
               f"Downloads are kept for {KEEP_FILES_S // 60} minutes.")


# ---------------------------------------------------------------- the engine, shared by everyone


class Engine:
    """The one probability source all sessions share (the CNN is stateless), or why there is none.

    If the weights are missing or bad, the page says so; it retries now and then, so weights that
    appear later (e.g. a training run finishing) are picked up without a restart.
    """

    RETRY_S = 10.0

    def __init__(self, signal_name: str, weights: Path) -> None:
        self.signal_name = signal_name
        self.weights = weights
        self.signal: ProbabilitySource | None = None
        self.error: str | None = None
        self._tried_at = 0.0
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        self._tried_at = time.monotonic()
        try:
            self.signal = make_signal(self.signal_name, self.weights)  # type: ignore[arg-type]
            self.error = None
        except WeightsError as error:
            self.error = f"The model could not be loaded: {error}. Counting is off until this is fixed."
        except ValueError as error:
            self.error = f"Bad FLOWREP_SIGNAL setting: {error}"

    def ready(self) -> bool:
        with self._lock:
            if self.signal is None and time.monotonic() - self._tried_at > self.RETRY_S:
                self._load()
            return self.signal is not None

    def new_session(self) -> Session:
        assert self.signal is not None
        return Session(self.signal)


# ---------------------------------------------------------------- webcam


@dataclass
class Live:
    """One browser session's webcam set, made on its first frame (gr.State deep-copies initial
    values, and a Session holds the shared model, so none is made at import)."""

    session: Session | None = None
    t0: float | None = None
    last_t: float = -1.0
    times: deque[float] = field(default_factory=lambda: deque(maxlen=LIVE_HISTORY))
    probabilities: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=LIVE_HISTORY))
    chart_at: float = 0.0
    shown_count: int | None = None
    blank_since: float | None = None
    status: str = ""
    reset_requested: bool = False  # set by the reset button, applied by the stream's thread

    def timestamp(self, now: float) -> float:
        """Seconds since this set's first frame, from arrival time, strictly increasing."""
        if self.t0 is None:
            self.t0 = now
        self.last_t = max(now - self.t0, self.last_t + 1e-3)
        return self.last_t

    def new_set(self) -> None:
        if self.session is not None:
            self.session.reset()
        self.t0, self.last_t = None, -1.0
        self.times.clear()
        self.probabilities.clear()
        self.shown_count, self.blank_since, self.chart_at = None, None, 0.0


def count_markdown(count: int) -> str:
    return f"# {count}\nreps"


def _is_blank(frame: np.ndarray) -> bool:
    small = frame[::8, ::8]
    return int(small.max()) < 20 or float(small.std()) < 1.0


class FrameLog:
    """Optional JSONL log of webcam frames (FLOWREP_FRAME_LOG), for tests and scripts/measure_app.py."""

    def __init__(self, path: str | None) -> None:
        self._file = open(path, "a", buffering=1) if path else None
        self._lock = threading.Lock()

    def write(self, **entry: Any) -> None:
        if self._file is not None:
            with self._lock:
                self._file.write(json.dumps(entry) + "\n")


# ---------------------------------------------------------------- uploads


@dataclass
class UploadProgress:
    """What the counting thread last saw, for the page to show (written by one thread, read by another)."""

    index: int = 0
    total: int = 0
    frame: np.ndarray | None = None
    result: FrameResult | None = None
    times: list[float] = field(default_factory=list)
    probabilities: list[np.ndarray] = field(default_factory=list)
    cancelled: bool = False


class Cancelled(Exception):
    """The visitor left (or a new upload replaced this one): stop counting."""


def check_clip(path: str) -> float:
    """Raises VideoError for clips over the limits; returns the clip's fps."""
    size_mb = Path(path).stat().st_size / 1e6 if Path(path).is_file() else 0.0
    if size_mb > MAX_UPLOAD_MB:
        raise VideoError(path, f"the file is {size_mb:.0f} MB; the limit is {MAX_UPLOAD_MB} MB")
    info = probe(path)
    if info.frame_count and info.frame_count / info.fps > MAX_CLIP_S:
        length = _duration_text(round(info.frame_count / info.fps, 1))
        raise VideoError(path, f"the clip is {length} long; the limit is {_duration_text(MAX_CLIP_S)}")
    return info.fps


def _user_message(error: VideoError) -> str:
    return f"**Could not count `{Path(error.path).name}`:** {error.problem}"


def _prune(root: Path, older_than_s: float) -> None:
    now = time.time()
    for run in root.glob("run-*"):
        if now - run.stat().st_mtime > older_than_s:
            shutil.rmtree(run, ignore_errors=True)


# ---------------------------------------------------------------- the page's handlers


class FlowRepApp:
    """The page's event handlers; one instance per server, shared by every visitor."""

    def __init__(self, engine: Engine, frame_log: FrameLog, work_dir: Path) -> None:
        self.engine = engine
        self.log = frame_log
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)

    def banner(self) -> str:
        self.engine.ready()
        return f"### ⚠️ {self.engine.error}" if self.engine.error else ""

    # webcam ------------------------------------------------------------------

    def webcam_frame(self, frame_rgb: np.ndarray | None, live: Live | None) -> tuple[Any, ...]:
        """One camera frame in; the side-by-side view, count, chart (throttled), status and state out."""
        live = live if isinstance(live, Live) else Live()
        arrived, arrived_wall = time.monotonic(), time.time()
        if not self.engine.ready():
            return gr.skip(), gr.skip(), gr.skip(), f"**{self.engine.error}**", live
        if frame_rgb is None or frame_rgb.size == 0:
            return gr.skip(), gr.skip(), gr.skip(), "**The camera sent an empty frame.**", live
        if live.reset_requested:
            live.reset_requested = False
            live.new_set()
        status = self._blank_status(frame_rgb, live, arrived)
        frame = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        live.session = live.session or self.engine.new_session()
        t = live.timestamp(arrived)
        try:
            result = live.session.process(frame, t)
        except FrameError as error:  # e.g. the camera switched resolution: start a new set
            live.new_set()
            result = live.session.process(frame, live.timestamp(arrived))
            status = f"The camera changed ({error}); a new set has started."
        live.times.append(result.time_s)
        live.probabilities.append(result.probabilities)
        view = cv2.cvtColor(viz.side_by_side(frame, result.flow_bgr, result.count), cv2.COLOR_BGR2RGB)
        chart = gr.skip()
        if arrived - live.chart_at >= CHART_EVERY_S:
            live.chart_at = arrived
            chart = viz.probability_figure(list(live.times), list(live.probabilities), CHART_WINDOW_S)
        count = gr.skip()
        if result.count != live.shown_count:
            live.shown_count = result.count
            count = count_markdown(result.count)
        status_out = gr.skip() if status == live.status else status
        live.status = status
        self._log_frame(frame, result, live, arrived, arrived_wall)
        return view, count, chart, status_out, live

    def _blank_status(self, frame_rgb: np.ndarray, live: Live, now: float) -> str:
        if not _is_blank(frame_rgb):
            live.blank_since = None
            return ""
        live.blank_since = live.blank_since or now
        if now - live.blank_since < BLANK_AFTER_S:
            return live.status
        return ("**The camera is sending only black (or blank) frames.** Is the lens covered, "
                "or is another app using the camera?")

    def _log_frame(self, frame: np.ndarray, result: FrameResult, live: Live, arrived: float,
                   arrived_wall: float) -> None:
        entry: dict[str, Any] = {"wall": arrived_wall, "t": result.time_s, "w": frame.shape[1],
                                 "h": frame.shape[0], "count": result.count, "flow": result.flow_bgr is not None,
                                 "ms": round(1000 * (time.monotonic() - arrived), 2)}
        if result.rep is not None:
            entry["rep_end_wall"] = arrived_wall - (result.time_s - result.rep.end_s)
        self.log.write(**entry)

    def reset(self, live: Live | None) -> tuple[Any, ...]:
        live = live if isinstance(live, Live) else Live()
        if live.session is None:
            live.new_set()
        else:  # a stream may be mid-frame on another thread: let it start the new set itself
            live.reset_requested = True
        empty = viz.probability_figure([], [], CHART_WINDOW_S)
        return count_markdown(0), empty, "New set: the count starts again from 0.", live

    # uploads -----------------------------------------------------------------

    def count_upload(self, path: str | None, progress: gr.Progress = gr.Progress()) -> Iterator[tuple[Any, ...]]:
        """Counts an uploaded clip, yielding the preview, count and chart a few times a second,
        then the final count, the reps table, the annotated video and the CSV."""
        if not path:
            yield self._upload_outputs(status="Choose a clip (or an example) first.")
            return
        name = Path(path).name
        if not self.engine.ready():
            yield self._upload_outputs(status=f"**Cannot count `{name}`.** {self.engine.error}")
            return
        yield self._upload_outputs(status=f"Opening `{name}`…")  # also clears the last clip's results
        try:
            check_clip(path)
            run_dir = self._new_run_dir()
            exports = viz.ClipExports(path, run_dir)
        except VideoError as error:
            yield self._upload_outputs(status=_user_message(error))
            return
        seen = UploadProgress()
        outcome: dict[str, Any] = {}
        worker = threading.Thread(target=self._count_in_thread, args=(path, exports, seen, outcome), daemon=True)
        started = time.perf_counter()
        worker.start()
        try:
            while worker.is_alive():
                worker.join(UPLOAD_UPDATE_EVERY_S)
                if seen.result is not None and worker.is_alive():
                    progress(seen.index / max(seen.total, 1), desc=f"frame {seen.index} of {seen.total or '?'}")
                    yield self._progress_outputs(seen, name, time.perf_counter() - started)
        except BaseException:  # the visitor left (Gradio closes this generator): stop counting, drop the files
            seen.cancelled = True
            worker.join()
            exports.abort()
            raise
        if "error" in outcome:
            exports.abort()
            yield self._upload_outputs(status=outcome["error"])
            return
        result: ClipResult = outcome["result"]
        video, reps_csv = exports.finish(result)
        yield self._final_outputs(result, seen, name, video, reps_csv)

    def _new_run_dir(self) -> Path:
        _prune(self.work_dir, KEEP_FILES_S)
        return Path(tempfile.mkdtemp(prefix="run-", dir=self.work_dir))

    def _count_in_thread(self, path: str, exports: viz.ClipExports, seen: UploadProgress,
                         outcome: dict[str, Any]) -> None:
        def on_frame(index: int, total: int, result: FrameResult, frame: np.ndarray) -> None:
            if seen.cancelled:
                raise Cancelled()
            if result.time_s > MAX_CLIP_S:  # containers that do not say their length
                raise VideoError(path, f"the clip is longer than the limit of {_duration_text(MAX_CLIP_S)}")
            exports.on_frame(index, total, result, frame)
            seen.probabilities.append(result.probabilities)  # before times: readers slice by len(times)
            seen.times.append(result.time_s)
            seen.index, seen.total, seen.frame, seen.result = index + 1, total, frame, result

        try:
            outcome["result"] = count_clip(path, self.engine.new_session(), on_frame)
        except VideoError as error:
            outcome["error"] = _user_message(error)
        except Cancelled:
            outcome["error"] = "Cancelled."
        except Exception as error:  # a bug must not take the page down for everyone else
            traceback.print_exc()
            outcome["error"] = f"**Could not count `{Path(path).name}`:** unexpected error ({error})."

    def _progress_outputs(self, seen: UploadProgress, name: str, elapsed: float) -> tuple[Any, ...]:
        result, frame = seen.result, seen.frame
        assert result is not None and frame is not None
        view = cv2.cvtColor(viz.side_by_side(frame, result.flow_bgr, result.count), cv2.COLOR_BGR2RGB)
        share = f" ({100 * seen.index / seen.total:.0f} %)" if seen.total else ""
        rate = seen.index / max(elapsed, 1e-6)
        status = f"Counting `{name}`: frame {seen.index} of {seen.total or '?'}{share}, {rate:.0f} frames/s"
        n = len(seen.times)
        chart = viz.probability_figure(seen.times[:n], seen.probabilities[:n], CHART_WINDOW_S)
        return self._upload_outputs(view, count_markdown(result.count), chart, status)

    def _final_outputs(self, result: ClipResult, seen: UploadProgress, name: str, video: Path,
                       reps_csv: Path) -> tuple[Any, ...]:
        view = gr.skip()
        if seen.frame is not None and seen.result is not None:
            view = cv2.cvtColor(viz.side_by_side(seen.frame, seen.result.flow_bgr, result.count), cv2.COLOR_BGR2RGB)
        chart = viz.probability_figure(seen.times, seen.probabilities, None, [r.end_s for r in result.reps])
        table = pd.DataFrame(viz.reps_rows(result.reps), columns=TABLE_HEADERS)
        status = (f"Done: **{result.count} reps** in `{name}` ({result.frames} frames, "
                  f"{result.fps_processed:.0f} frames/s).")
        return self._upload_outputs(view, count_markdown(result.count), chart, status, table, str(video),
                                    [str(video), str(reps_csv)], _public_json(result, name))

    @staticmethod
    def _upload_outputs(view: Any = None, count: Any = None, chart: Any = None, status: str = "", table: Any = None,
                        video: Any = None, files: Any = None, summary: Any = None) -> tuple[Any, ...]:
        """The upload tab's outputs in order; None leaves an output as it is, except for a
        message-only update, which clears the results of an earlier clip."""
        clear = all(v is None for v in (view, count, chart, table, video, files, summary))
        if clear:
            empty_table = pd.DataFrame([], columns=TABLE_HEADERS)
            return (None, count_markdown(0), viz.probability_figure([], [], CHART_WINDOW_S), status,
                    empty_table, None, None, None)
        keep = gr.skip()
        return tuple(keep if v is None else v for v in (view, count, chart)) + (status,) + tuple(
            keep if v is None else v for v in (table, video, files, summary))

    # API ---------------------------------------------------------------------

    def count_json(self, path: str | None) -> dict[str, Any]:
        """/count: a clip in, {"file", "count", "reps": [{"start_s", "end_s"}], "frames", ...} out."""
        if not path:
            raise gr.Error("No clip was sent.")
        if not self.engine.ready():
            raise gr.Error(self.engine.error)
        try:
            check_clip(path)
            result = count_clip(path, self.engine.new_session())
        except VideoError as error:
            raise gr.Error(f"Could not count {Path(error.path).name}: {error.problem}") from error
        return _public_json(result, Path(path).name)


def _public_json(result: ClipResult, name: str) -> dict[str, Any]:
    """The CLI's JSON for a clip, naming the file as uploaded rather than by its server path."""
    return {**result.as_json(), "file": name}


# ---------------------------------------------------------------- layout

CSS = """
#live_count h1, #up_count h1 { font-size: 5rem !important; line-height: 1; margin: 0; text-align: center; }
#live_count p, #up_count p { text-align: center; margin: 0; }
#banner h3 { color: #b00020; }
"""

# The browser's camera can open and still deliver nothing (a stalled driver, a virtual camera with no
# source); Gradio then sends no frames at all, so only the page itself can notice.
CAMERA_WATCHDOG_JS = """
() => {
  let lastTime = -1, lastChange = Date.now();
  setInterval(() => {
    const video = document.querySelector('#cam video');
    const note = document.querySelector('#cam_watchdog');
    if (!note) return;
    const live = video && video.srcObject && video.srcObject.active;
    if (!live) { note.textContent = ''; lastChange = Date.now(); return; }
    if (video.currentTime !== lastTime && video.videoWidth > 0) {
      lastTime = video.currentTime;
      lastChange = Date.now();
    }
    const stalled = (Date.now() - lastChange) / 1000;
    note.textContent = stalled > 3 ? `The camera has sent no picture for ${stalled.toFixed(0)} s: `
      + 'check that it is connected and not in use by another app.' : '';
  }, 1000);
}
"""


def _example_clips() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.mp4"))


def _example_label(clip: Path) -> str:
    """'push_up_3reps.mp4' → 'push up (3 reps)': the files are named after what they show."""
    exercise, _, reps = clip.stem.rpartition("_")
    return f"{exercise.replace('_', ' ')} ({reps.removesuffix('reps')} reps)"


def build_demo(app: FlowRepApp) -> gr.Blocks:
    with gr.Blocks(title="FlowRep – live rep counter", delete_cache=(300, KEEP_FILES_S)) as demo:
        gr.Markdown("# FlowRep\nCounts exercise repetitions from optical flow: "
                    "the colour-coded motion (hue = direction, brightness = speed) goes through a small CNN "
                    "that says *down*, *still* or *up*, and a counter turns that into reps.")
        banner = gr.Markdown(app.banner(), elem_id="banner")
        with gr.Tab("Webcam", id="webcam"):
            live = gr.State(None)  # a Live, made on this session's first frame
            with gr.Row():
                with gr.Column(scale=1):
                    # mirror=True (Gradio's default) flips the frames the server gets, like a mirror;
                    # it changes no count, and the view then matches what the visitor sees.
                    cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera",
                                   elem_id="cam", webcam_options=gr.WebcamOptions(
                                       mirror=True, constraints={"video": {"width": {"ideal": 640},
                                                                           "height": {"ideal": 480}}}))
                    gr.HTML("<div id='cam_watchdog' style='color:#b00020;font-weight:600'></div>")
                with gr.Column(scale=2):
                    live_view = gr.Image(label="Camera | flow", format="jpeg", interactive=False,
                                         elem_id="live_view")
            with gr.Row():
                with gr.Column(scale=1, min_width=180):
                    live_count = gr.Markdown(count_markdown(0), elem_id="live_count")
                    reset_btn = gr.Button("New set (reset count)", elem_id="reset_btn")
                    live_status = gr.Markdown("", elem_id="live_status")
                with gr.Column(scale=4):
                    live_plot = gr.Plot(viz.probability_figure([], [], CHART_WINDOW_S), show_label=False,
                                        elem_id="live_plot")
            gr.Markdown("Press **Record** to start counting; stand so your whole movement is in view.")
            cam.stream(app.webcam_frame, inputs=[cam, live],
                       outputs=[live_view, live_count, live_plot, live_status, live], stream_every=STREAM_EVERY_S,
                       time_limit=None, concurrency_limit=None, show_progress="hidden", api_visibility="private")
            reset_btn.click(app.reset, inputs=[live], outputs=[live_count, live_plot, live_status, live],
                            api_visibility="private", queue=False)
        with gr.Tab("Upload a clip", id="upload"):
            gr.Markdown(LIMITS_TEXT, elem_id="limits")
            with gr.Row():
                with gr.Column(scale=1):
                    clip = gr.Video(sources=["upload"], label="Clip", elem_id="vid_in")
                    count_btn = gr.Button("Count reps", variant="primary", elem_id="count_btn")
                    examples = _example_clips()
                    if examples:  # filling the box starts the count, through clip.change below
                        gr.Examples([[str(p)] for p in examples], inputs=[clip], elem_id="examples",
                                    example_labels=[_example_label(p) for p in examples],
                                    label="Or try an example (synthetic clips made by scripts/make_examples.py)")
                with gr.Column(scale=2):
                    up_view = gr.Image(label="Clip | flow", format="jpeg", interactive=False, elem_id="up_view")
            with gr.Row():
                with gr.Column(scale=1, min_width=180):
                    up_count = gr.Markdown(count_markdown(0), elem_id="up_count")
                    up_status = gr.Markdown("", elem_id="up_status")
                with gr.Column(scale=4):
                    up_plot = gr.Plot(viz.probability_figure([], [], CHART_WINDOW_S), show_label=False,
                                      elem_id="up_plot")
            with gr.Row():
                up_table = gr.Dataframe(pd.DataFrame([], columns=TABLE_HEADERS), label="Reps", interactive=False,
                                        elem_id="up_table")
                up_video = gr.Video(label="Annotated video", interactive=False, elem_id="up_video")
            with gr.Row():
                up_files = gr.File(label="Downloads: annotated video and reps CSV", file_count="multiple",
                                   interactive=False, elem_id="up_files")
                up_json = gr.JSON(label="Result (what the /count API returns)", elem_id="up_json")
            outputs = [up_view, up_count, up_plot, up_status, up_table, up_video, up_files, up_json]
            upload_event = dict(fn=app.count_upload, inputs=[clip], outputs=outputs, concurrency_limit=2,
                                concurrency_id="clips", show_progress="minimal", show_progress_on=[up_status],
                                trigger_mode="always_last")
            count_btn.click(**upload_event, api_name="analyze")
            clip.change(**upload_event, api_visibility="private")  # an upload, an example, or a clear
            api_file = gr.File(visible=False, file_types=CLIP_TYPES)
            api_json = gr.JSON(visible=False)
            api_btn = gr.Button(visible=False)
            api_btn.click(app.count_json, inputs=[api_file], outputs=[api_json], api_name="count",
                          concurrency_limit=2, concurrency_id="clips")
        demo.load(app.banner, outputs=[banner], api_visibility="private", queue=False)
    return demo


def main() -> None:
    signal = os.environ.get("FLOWREP_SIGNAL", "cnn")
    engine = Engine(signal, Path(os.environ.get("FLOWREP_WEIGHTS", str(DEFAULT_WEIGHTS))))
    if engine.error:
        print(f"flowrep app: {engine.error}", flush=True)
    work_dir = Path(os.environ.get("GRADIO_TEMP_DIR", tempfile.gettempdir())) / "flowrep-runs"
    app = FlowRepApp(engine, FrameLog(os.environ.get("FLOWREP_FRAME_LOG")), work_dir)
    viz.probability_figure([0.0], [[0.0, 1.0, 0.0]])  # plotly's first figure takes ~1 s: not on a visitor
    demo = build_demo(app)
    demo.queue(default_concurrency_limit=2, max_size=64)
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), ssr_mode=False, footer_links=["api"],
                show_error=True, max_file_size=f"{MAX_UPLOAD_MB}mb", css=CSS, js=CAMERA_WATCHDOG_JS)


if __name__ == "__main__":
    main()
