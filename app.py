"""FlowRep's demo page: `python app.py` serves a live webcam rep counter, a clip uploader and workouts.

Owns the page: its layout, per-browser-session state, throttling of screen updates, upload limits
and the messages users see. Counting is flowrep.pipeline's; drawing and exports are flowrep.viz's
(the same ones `flowrep count --out-dir` uses); a workout's plans are flowrep.plans', its run is
flowrep.workout's WorkoutSession (which `flowrep workout` uses too), its summary flowrep.summary's and
its history flowrep.history's, so the page holds no logic the CLI lacks.

Environment: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (Gradio's own; default 127.0.0.1:7860),
FLOWREP_SIGNAL (cnn, the default, or mean-flow), FLOWREP_WEIGHTS (a .safetensors file),
FLOWREP_MAX_UPLOAD_MB (200) and FLOWREP_MAX_CLIP_S (600) for the upload limits, FLOWREP_FRAME_LOG
(a JSONL file that gets one line per webcam frame, for tests and measurements), and FLOWREP_DB (the
Workout tab's SQLite history of saved plans and finished workouts; default ~/.flowrep/flowrep.db).
"""
from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: nothing leaves the machine

import json
import shutil
import tempfile
import threading
import time
import math
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import gradio as gr
import numpy as np
import pandas as pd  # plotly imports pandas lazily; two threads doing that at once can crash

from flowrep import viz
from flowrep.model import DEFAULT_WEIGHTS, WeightsError
from flowrep.pipeline import ClipResult, FrameError, FrameResult, FrameSizeChanged, Session, count_clip
from flowrep.signals import ProbabilitySource, make_signal
from flowrep.video import MAX_FRAME_SIDES, VideoError, probe
from flowrep.history import History, HistoryError
from flowrep.plans import SHIPPED_PLANS, Plan, PlanError, count_text, shipped_plan, unit_for
from flowrep.summary import TABLE_HEADERS as SUMMARY_HEADERS, Outcome, WorkoutSummary, clock_text
from flowrep.workout import Cue, Event, WorkoutRunner, WorkoutSession

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


def _view(frame_bgr: np.ndarray, result: FrameResult, count: int) -> np.ndarray:
    """The side-by-side picture for the page (RGB): the frame, its flow, the count shown and the
    crop the CNN looked at."""
    return cv2.cvtColor(viz.side_by_side(frame_bgr, result.flow_bgr, count, crop=result.crop), cv2.COLOR_BGR2RGB)


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
        except FrameSizeChanged as error:  # the camera switched resolution: start a new set
            live.new_set()
            result = live.session.process(frame, live.timestamp(arrived))
            status = f"The camera changed ({error}); a new set has started."
        except FrameError as error:
            return gr.skip(), gr.skip(), gr.skip(), f"**The camera's picture cannot be counted:** {error}.", live
        live.times.append(result.time_s)
        live.probabilities.append(result.probabilities)
        view = _view(frame, result, result.count)
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
        view = _view(frame, result, result.count)
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
            view = _view(seen.frame, seen.result, result.count)
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


# ---------------------------------------------------------------- workouts

GET_READY_S = 5.0  # the countdown before a workout's first exercise
WORKOUT_TICK_S = 0.5  # the workout clock's refresh when no camera frame comes (camera off or stalled)
NO_PICTURE_AFTER_S = 2.0
HISTORY_SHOWN = 20
RECENT_SOUNDS = 6  # cues the hidden sound box repeats (see WORKOUT_SOUND_JS)
HISTORY_HEADERS = ["finished", "plan", "status", "reps", "training", "working", "resting"]
PLAN_FORMAT = ("One exercise a line: `push-ups: 10 reps`, `plank: 45 s`, `squats: 8 x 20 s, rest 10 s` (rounds), "
               "and `rest: 30 s` for the rest between exercises.")

# Sounds are made in the browser (WebAudio): a short blip per rep, a rising chord when a target is
# reached or the time is up, two beeps when work starts. The hidden box holds the last few numbered
# cues ("7:rep 8:target"), so a change event the page missed is made up by the next one; only the
# newest cue is played. Every cue is also kept in window.flowrepSounds.
WORKOUT_SOUND_JS = """
(cues, muted) => {
  if (!cues) return;
  const seen = window.flowrepLastCue || 0;
  const fresh = cues.split(' ').map(c => c.split(':')).filter(([n]) => Number(n) > seen);
  if (!fresh.length) return;
  window.flowrepLastCue = Number(fresh[fresh.length - 1][0]);
  const log = window.flowrepSounds = window.flowrepSounds || [];
  fresh.forEach(([, k]) => log.push(muted ? k + ' (muted)' : k));
  const kind = fresh[fresh.length - 1][1];
  const Context = window.AudioContext || window.webkitAudioContext;
  if (muted || !Context) return;
  const audio = window.flowrepAudio = window.flowrepAudio || new Context();
  if (audio.state === 'suspended') audio.resume();
  const tone = (frequency, start, length, level) => {
    const t = audio.currentTime + start, osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = 'sine'; osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(level, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(t); osc.stop(t + length + 0.05);
  };
  if (kind === 'rep') tone(880, 0, 0.09, 0.25);
  else if (kind === 'go') { tone(660, 0, 0.12, 0.2); tone(990, 0.16, 0.2, 0.2); }
  else [523.25, 659.25, 783.99, 1046.5].forEach((f, i) => tone(f, i * 0.09, 0.7, 0.14));
}
"""

WORKOUT_CSS = """
#w_count h1, #w_clock h1 { font-size: 4.5rem !important; line-height: 1; margin: 0; text-align: center; }
#w_count p, #w_clock p { text-align: center; margin: 0; }
#w_step h2 { margin: 0; }
#w_history_msg, #w_plan_msg.error { color: #b00020; }
"""


@dataclass
class WorkoutLive:
    """One browser session's workout (the camera's set and the runner, made on the first frame or
    Start) and what the page last showed. The stream's thread and the buttons' threads both touch it,
    hence the lock. Its clock, for the set and the runner alike, is the monotonic clock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    workout: WorkoutSession | None = None
    last_frame_at: float = -1e9
    sound_number: int = 0
    recent_sounds: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT_SOUNDS))
    shown: dict[str, Any] = field(default_factory=dict)  # last text sent per output: unchanged ones are skipped
    summary_shown: bool = False

    @property
    def runner(self) -> WorkoutRunner | None:
        return self.workout.runner if self.workout is not None else None

    def clock(self, now: float) -> float:
        """The workout's clock (the set's timestamps and the runner's alike): the monotonic clock."""
        return now


def _sound_for(cues: list[Event]) -> str | None:
    if Outcome.TARGET_REACHED in cues or Outcome.TIME_UP in cues:
        return "target"
    if Cue.REP in cues:
        return "rep"
    if Cue.WORK_STARTED in cues:
        return "go"
    return None


def _step_markdown(runner: WorkoutRunner | None) -> str:
    if runner is None:
        return "### Choose a plan and press **Start workout**"
    step = runner.step
    if runner.finished or step is None:
        return f"## {'Stopped' if runner.stopped else 'Done!'}\n{runner.plan.name}: the summary is below."
    rounds = f" · round {step.round} of {step.rounds}" if step.rounds > 1 else ""
    if step.is_work:
        return f"## {step.exercise}\n{step.target_text}{rounds}"
    coming = runner.next_work_step
    after = f"next: **{coming.exercise}**, {coming.target_text}{rounds}" if coming else ""
    return f"## {step.title}\n{after}"


def _count_markdown(runner: WorkoutRunner | None, clock: float) -> str:
    """A reps target's count ('1 rep of 3'); a timed step's (a plank's) time so far, and its reps if any."""
    step = runner.step if runner is not None else None
    if step is None or not step.is_work:
        return "# –\nreps"
    if step.seconds is not None:
        reps = f" · {count_text(runner.step_reps, 'rep')}" if runner.step_reps else ""
        return f"# {clock_text(runner.step_elapsed(clock))}\nof {clock_text(step.seconds)}{reps}"
    return f"# {runner.step_reps}\n{unit_for(runner.step_reps, 'rep')} of {step.reps}"


def _clock_markdown(runner: WorkoutRunner | None, clock: float) -> str:
    if runner is None or runner.step is None:
        training = runner.summary().training_s if runner is not None and runner.finished else 0.0
        return f"# {clock_text(training)}\n{'in all' if training else ' '}"
    remaining = runner.step_remaining(clock)
    paused = " (paused)" if runner.paused else ""
    if remaining is None:
        return f"# {clock_text(runner.step_elapsed(clock))}\nelapsed{paused}"
    return f"# {clock_text(math.ceil(remaining - 1e-6))}\nleft{paused}"


def _summary_table(summary: WorkoutSummary) -> pd.DataFrame:
    return pd.DataFrame(summary.rows(), columns=SUMMARY_HEADERS)


class WorkoutPage:
    """The Workout tab: plans (shipped and saved), a plan run on the webcam with the same engine as
    the Webcam tab, sounds, the summary with its CSV, and the history. The rules (targets, rests,
    pause, summary) are flowrep.workout's and flowrep.summary's; storage is flowrep.history's."""

    def __init__(self, engine: Engine, frame_log: FrameLog, work_dir: Path, history_path: Path | None = None) -> None:
        self.engine = engine
        self.log = frame_log
        self.work_dir = work_dir
        work_dir.mkdir(parents=True, exist_ok=True)
        self.history_path = history_path
        self.history: History | None = None
        self.history_error = ""
        self._open_history()

    # history -----------------------------------------------------------------

    def _open_history(self) -> None:
        try:
            self.history = History(self.history_path)
            self.history_error = ""
        except HistoryError as error:
            self.history, self.history_error = None, f"**{error}**"

    def _saved_plans(self) -> list[Plan]:
        if self.history is None:
            return []
        try:
            return self.history.plans()
        except HistoryError as error:
            self.history_error = f"**{error}**"
            return []

    def plans(self) -> list[Plan]:
        return [*SHIPPED_PLANS, *self._saved_plans()]

    def plan_choices(self) -> list[tuple[str, str]]:
        saved = [(f"{p.name} (saved)", p.name) for p in self._saved_plans()]
        return [(p.name, p.name) for p in SHIPPED_PLANS] + saved

    def history_table(self) -> pd.DataFrame:
        rows = []
        if self.history is not None:
            try:
                records = self.history.workouts(HISTORY_SHOWN)
            except HistoryError as error:
                self.history_error, records = f"**{error}**", []
            for record in records:
                s = record.summary
                rows.append([record.finished_at.strftime("%Y-%m-%d %H:%M"), s.plan_name, s.status, s.reps,
                             clock_text(s.training_s), clock_text(s.working_s), clock_text(s.resting_s)])
        return pd.DataFrame(rows, columns=HISTORY_HEADERS)

    def on_load(self) -> tuple[Any, ...]:
        """A page (re)load: the plans and history as they are now (the database may have been fixed)."""
        if self.history is None:
            self._open_history()
        table = self.history_table()
        return gr.Dropdown(choices=self.plan_choices()), table, self.history_error

    # plans -------------------------------------------------------------------

    def choose_plan(self, name: str | None) -> tuple[Any, ...]:
        plan = next((p for p in reversed(self.plans()) if p.name == name), None)
        if plan is None:
            return gr.skip(), gr.skip(), ""
        return plan.name, plan.to_text(), ""

    def follow_plan(self, name: str) -> Any:
        """The dropdown shows the plan whose name is being edited, or none for a new name."""
        choices = self.plan_choices()
        return gr.Dropdown(choices=choices, value=name if name in {value for _, value in choices} else None)

    def save_plan(self, name: str, text: str) -> tuple[Any, ...]:
        try:
            plan = Plan.from_text(name or "", text or "")
        except PlanError as error:
            return gr.skip(), f"**Not saved:** {error}"
        if shipped_plan(plan.name) is not None:
            return gr.skip(), f"**Not saved:** “{plan.name}” is a shipped plan; give yours another name."
        if self.history is None:
            self._open_history()
        if self.history is None:
            return gr.skip(), f"**Not saved:** {self.history_error.strip('*')}"
        try:
            self.history.save_plan(plan)
        except HistoryError as error:
            return gr.skip(), f"**Not saved:** {error}"
        return gr.Dropdown(choices=self.plan_choices(), value=plan.name), f"Saved “{plan.name}”."

    def delete_plan(self, name: str) -> tuple[Any, ...]:
        if shipped_plan(name or "") is not None:
            return gr.skip(), "Shipped plans cannot be deleted."
        try:
            deleted = self.history is not None and self.history.delete_plan(name or "")
        except HistoryError as error:
            return gr.skip(), f"**Not deleted:** {error}"
        if not deleted:
            return gr.skip(), f"No saved plan is called “{name}”."
        first = SHIPPED_PLANS[0].name
        return gr.Dropdown(choices=self.plan_choices(), value=first), f"Deleted “{name}”."

    # the run -----------------------------------------------------------------

    def start(self, name: str, text: str, live: WorkoutLive | None) -> tuple[Any, ...]:
        """Starts the plan in the editor: a get-ready countdown, then the first exercise."""
        live = live if isinstance(live, WorkoutLive) else WorkoutLive()
        try:
            plan = Plan.from_text(name or "My plan", text or "")
        except PlanError as error:
            return self._outputs(live, time.monotonic(), [], status=f"**Cannot start:** {error}")
        now = time.monotonic()
        if not self.engine.ready():
            return self._outputs(live, now, [], status=f"**{self.engine.error}**")
        with live.lock:
            live.workout = live.workout or WorkoutSession(self.engine.new_session())
            live.summary_shown = False
            live.shown.clear()
            cues = live.workout.start(plan, live.clock(now), GET_READY_S)
            clear = ("", pd.DataFrame([], columns=SUMMARY_HEADERS), None)
            return self._outputs(live, now, cues, summary=clear, timer=gr.Timer(active=True))

    def toggle_pause(self, live: WorkoutLive | None) -> tuple[Any, ...]:
        return self._command(live, WorkoutSession.toggle_pause)

    def skip(self, live: WorkoutLive | None) -> tuple[Any, ...]:
        return self._command(live, WorkoutSession.skip)

    def stop(self, live: WorkoutLive | None) -> tuple[Any, ...]:
        return self._command(live, WorkoutSession.stop)

    def discard(self, live: WorkoutLive | None) -> tuple[Any, ...]:
        """Stops the workout without keeping it in the history."""
        return self._command(live, WorkoutSession.discard)

    def _command(self, live: WorkoutLive | None, command: Callable[[WorkoutSession, float], list[Event]]
                 ) -> tuple[Any, ...]:
        live = live if isinstance(live, WorkoutLive) else WorkoutLive()
        now = time.monotonic()
        with live.lock:
            if live.workout is None or live.runner is None or live.runner.finished:
                return self._outputs(live, now, [], status="Start a workout first.")
            cues = command(live.workout, live.clock(now))
            return self._outputs(live, now, cues)

    def frame(self, frame_rgb: np.ndarray | None, live: WorkoutLive | None) -> tuple[Any, ...]:
        """One camera frame: counted by the engine, fed to the runner; the screen and cues out."""
        live = live if isinstance(live, WorkoutLive) else WorkoutLive()
        arrived, arrived_wall = time.monotonic(), time.time()
        if not self.engine.ready():
            return self._outputs(live, arrived, [], status=f"**{self.engine.error}**")
        if frame_rgb is None or frame_rgb.size == 0:
            return self._outputs(live, arrived, [], status="**The camera sent an empty frame.**")
        frame = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
        with live.lock:
            live.last_frame_at = arrived
            live.workout = live.workout or WorkoutSession(self.engine.new_session())
            try:
                counted = live.workout.process(frame, live.clock(arrived))
            except FrameError as error:
                return self._outputs(live, arrived, [], status=f"**The camera's picture cannot be counted:** {error}.")
            result, runner = counted.result, live.runner
            shown = runner.step_reps if runner is not None and runner.working else result.count
            view = _view(frame, result, shown)
            step = runner.step if runner is not None else None
            self.log.write(tab="workout", wall=arrived_wall, t=result.time_s, count=result.count,
                           step=str(step.kind) if step else None, step_reps=shown)
            return self._outputs(live, arrived, counted.events, view=view)

    def tick(self, live: WorkoutLive | None) -> tuple[Any, ...]:
        """The clock's refresh when no frame comes: rests count down and timed steps end anyway."""
        if not isinstance(live, WorkoutLive) or live.runner is None or live.runner.finished and live.summary_shown:
            return tuple(gr.skip() for _ in range(13)) + (gr.Timer(active=False), gr.skip())
        now = time.monotonic()
        if now - live.last_frame_at < WORKOUT_TICK_S:
            return tuple(gr.skip() for _ in range(15))
        with live.lock:
            assert live.workout is not None
            return self._outputs(live, now, live.workout.tick(live.clock(now)))

    # what the page shows -----------------------------------------------------

    def _outputs(self, live: WorkoutLive, now: float, cues: list[Event], view: Any = None, status: str | None = None,
                 summary: tuple[Any, Any, Any] | None = None, timer: Any = None) -> tuple[Any, ...]:
        """All of the tab's live outputs, in the order of layout()'s `outputs`; unchanged texts are skipped."""
        runner = live.runner
        clock = live.clock(now)
        if status is None:
            status = self._status(live, now)
        texts = {"step": _step_markdown(runner), "count": _count_markdown(runner, clock),
                 "clock": _clock_markdown(runner, clock), "status": status,
                 "pause": "Resume" if runner is not None and runner.paused else "Pause"}
        changed = {key: text for key, text in texts.items() if live.shown.get(key) != text}
        live.shown.update(texts)
        step, count, clock_md, status_md = (changed.get(key, gr.skip()) for key in ("step", "count", "clock", "status"))
        pause_button = gr.Button(changed["pause"]) if "pause" in changed else gr.skip()
        sound = gr.skip()
        if kind := _sound_for(cues):
            live.sound_number += 1
            live.recent_sounds.append(f"{live.sound_number}:{kind}")
            sound = " ".join(live.recent_sounds)
        totals, table, csv_file, history = (*(summary or (gr.skip(), gr.skip(), gr.skip())), gr.skip())
        history_msg = gr.skip()
        if runner is not None and runner.finished and not live.summary_shown:
            live.summary_shown = True
            keep = live.workout is not None and not live.workout.discarded
            totals, table, csv_file, history, history_msg = self._finish(runner, keep)
            timer = gr.Timer(active=False)
        return (gr.skip() if view is None else view, step, count, clock_md, sound, status_md, pause_button, totals,
                table, csv_file, history, history_msg, gr.skip(), gr.skip() if timer is None else timer, live)

    def _status(self, live: WorkoutLive, now: float) -> str:
        runner = live.runner
        if runner is None or runner.finished:
            return ""
        if runner.paused:
            return "Paused: press **Resume** to go on."
        if now - live.last_frame_at > NO_PICTURE_AFTER_S:
            return "No camera picture: press **Record** on the camera (the clock runs on)."
        return ""

    def _finish(self, runner: WorkoutRunner, keep: bool) -> tuple[Any, ...]:
        """The summary on screen and as CSV; the workout into the history, unless not to `keep`."""
        summary = runner.summary()
        _prune(self.work_dir, KEEP_FILES_S)
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=self.work_dir))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        csv_path = summary.write_csv(run_dir / f"workout-{stamp}.csv")
        heading = f"### {summary.plan_name}: {summary.status}{'' if keep else ' (discarded: not in the history)'}"
        totals = f"{heading}\n{summary.totals_text()}"
        if keep and self.history is None:
            self._open_history()
        if keep and self.history is not None:
            try:
                self.history.record_workout(summary)
            except HistoryError as error:
                self.history_error = f"**{error}**"
        return totals, _summary_table(summary), str(csv_path), self.history_table(), self.history_error

    # layout ------------------------------------------------------------------

    def layout(self, demo: gr.Blocks) -> None:
        """The tab's components and events (called inside build_demo's Workout tab)."""
        live = gr.State(None)  # a WorkoutLive, made on the first frame or button press
        first = SHIPPED_PLANS[0]
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                plan_pick = gr.Dropdown(self.plan_choices(), value=first.name, label="Plan", elem_id="w_plan")
                plan_name = gr.Textbox(first.name, label="Name", elem_id="w_plan_name")
                plan_text = gr.Textbox(first.to_text(), label="Exercises", lines=6, elem_id="w_plan_text")
                gr.Markdown(PLAN_FORMAT)
                with gr.Row():
                    save_btn = gr.Button("Save plan", size="sm", elem_id="w_save")
                    delete_btn = gr.Button("Delete plan", size="sm", elem_id="w_delete")
                plan_msg = gr.Markdown("", elem_id="w_plan_msg")
            with gr.Column(scale=2):
                with gr.Row():
                    cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera", elem_id="w_cam",
                                   webcam_options=gr.WebcamOptions(
                                       mirror=True, constraints={"video": {"width": {"ideal": 640},
                                                                           "height": {"ideal": 480}}}))
                    view = gr.Image(label="Camera | flow", format="jpeg", interactive=False, elem_id="w_view")
                with gr.Row():
                    start_btn = gr.Button("Start workout", variant="primary", elem_id="w_start")
                    pause_btn = gr.Button("Pause", elem_id="w_pause")
                    skip_btn = gr.Button("Skip", elem_id="w_skip")
                    stop_btn = gr.Button("Stop workout", variant="stop", elem_id="w_stop")
                    discard_btn = gr.Button("Stop and discard", elem_id="w_discard")
                    mute = gr.Checkbox(False, label="Mute sounds", elem_id="w_mute")
                with gr.Row():
                    step_md = gr.Markdown(_step_markdown(None), elem_id="w_step")
                    count_md = gr.Markdown(_count_markdown(None, 0.0), elem_id="w_count")
                    clock_md = gr.Markdown(_clock_markdown(None, 0.0), elem_id="w_clock")
                status_md = gr.Markdown("", elem_id="w_status")
                gr.Markdown("Press **Record** on the camera and **Start workout**; each exercise moves on by "
                            "itself when its target is reached or its time is up.")
        sound = gr.Textbox(visible="hidden", elem_id="w_sound")
        gr.Markdown("### Summary")
        totals_md = gr.Markdown("", elem_id="w_totals")
        summary_df = gr.Dataframe(pd.DataFrame([], columns=SUMMARY_HEADERS), interactive=False, show_label=False,
                                  elem_id="w_summary")
        csv_file = gr.File(label="Summary as CSV", interactive=False, height=90, elem_id="w_csv")
        gr.Markdown("### History")
        history_msg = gr.Markdown(self.history_error, elem_id="w_history_msg")
        history_df = gr.Dataframe(self.history_table(), interactive=False, show_label=False, elem_id="w_history")
        timer = gr.Timer(WORKOUT_TICK_S, active=False)

        outputs = [view, step_md, count_md, clock_md, sound, status_md, pause_btn, totals_md, summary_df, csv_file,
                   history_df, history_msg, plan_msg, timer, live]
        private: dict[str, Any] = dict(api_visibility="private", show_progress="hidden")
        cam.stream(self.frame, inputs=[cam, live], outputs=outputs, stream_every=STREAM_EVERY_S, time_limit=None,
                   concurrency_limit=None, **private)
        timer.tick(self.tick, inputs=[live], outputs=outputs, concurrency_limit=None, **private)
        start_btn.click(self.start, inputs=[plan_name, plan_text, live], outputs=outputs, queue=False, **private)
        pause_btn.click(self.toggle_pause, inputs=[live], outputs=outputs, queue=False, **private)
        skip_btn.click(self.skip, inputs=[live], outputs=outputs, queue=False, **private)
        stop_btn.click(self.stop, inputs=[live], outputs=outputs, queue=False, **private)
        discard_btn.click(self.discard, inputs=[live], outputs=outputs, queue=False, **private)
        sound.change(None, inputs=[sound, mute], js=WORKOUT_SOUND_JS, **private)
        plan_pick.input(self.choose_plan, inputs=[plan_pick], outputs=[plan_name, plan_text, plan_msg],
                        queue=False, **private)
        plan_name.input(self.follow_plan, inputs=[plan_name], outputs=[plan_pick], queue=False, **private)
        save_btn.click(self.save_plan, inputs=[plan_name, plan_text], outputs=[plan_pick, plan_msg], queue=False,
                       **private)
        delete_btn.click(self.delete_plan, inputs=[plan_name], outputs=[plan_pick, plan_msg], queue=False, **private)
        demo.load(self.on_load, outputs=[plan_pick, history_df, history_msg], queue=False, **private)


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


def build_demo(app: FlowRepApp, workouts: WorkoutPage | None = None) -> gr.Blocks:
    workouts = workouts or WorkoutPage(app.engine, app.log, app.work_dir)
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
        with gr.Tab("Workout", id="workout"):
            workouts.layout(demo)
        demo.load(app.banner, outputs=[banner], api_visibility="private", queue=False)
    return demo


def _name_matplotlib_backend() -> None:
    """Gradio asks matplotlib for its backend around every event when matplotlib is installed. Left
    unnamed, that imports pyplot (~1 s) inside the first visitor's first event, with the event loop
    blocked for everyone; named at start-up, it costs nothing later."""
    try:
        import matplotlib
    except ImportError:  # not a dependency: Gradio then skips the question too
        return
    matplotlib.use("agg")


def main() -> None:
    signal = os.environ.get("FLOWREP_SIGNAL", "cnn")
    engine = Engine(signal, Path(os.environ.get("FLOWREP_WEIGHTS", str(DEFAULT_WEIGHTS))))
    if engine.error:
        print(f"flowrep app: {engine.error}", flush=True)
    work_dir = Path(os.environ.get("GRADIO_TEMP_DIR", tempfile.gettempdir())) / "flowrep-runs"
    app = FlowRepApp(engine, FrameLog(os.environ.get("FLOWREP_FRAME_LOG")), work_dir)
    viz.probability_figure([0.0], [[0.0, 1.0, 0.0]])  # plotly's first figure takes ~1 s: not on a visitor
    _name_matplotlib_backend()
    demo = build_demo(app)
    demo.queue(default_concurrency_limit=2, max_size=64)
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), ssr_mode=False, footer_links=["api"],
                show_error=True, max_file_size=f"{MAX_UPLOAD_MB}mb", css=CSS + WORKOUT_CSS, js=CAMERA_WATCHDOG_JS)


if __name__ == "__main__":
    main()
