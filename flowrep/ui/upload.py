"""The "Upload a clip" tab and the /count API: a clip checked against the upload limits, counted on a
thread while the page shows its progress, then the reps table and chart (each rep's down and up times
and speed), the annotated video, the CSV and the JSON that /count returns."""
from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from flowrep import viz
from flowrep.limits import ClipLimits, duration_text
from flowrep.pipeline import ClipResult, FrameResult, count_clip
from flowrep.plans import count_text
from flowrep.redact import without_paths
from flowrep.ui.engine import Engine, RunFolders
from flowrep.ui.widgets import CHART_WINDOW_S, count_markdown, empty_chart, side_by_side
from flowrep.video import MAX_FRAME_SIDES, VideoError

UPLOAD_UPDATE_EVERY_S = 0.3
CLIP_TYPES = [".mp4", ".mov", ".webm", ".avi", ".m4v", ".mkv"]
TABLE_HEADERS = ["rep", "start (s)", "end (s)", "duration (s)", *viz.ANALYSIS_TABLE_HEADERS]

Updates = dict[Any, Any]  # {output component: its new value}; outputs left out stay as they are


def limits_text(limits: ClipLimits, keep_files_s: float) -> str:
    return (f"Clips: mp4, mov, webm or avi · at most **{limits.max_upload_mb} MB** "
            f"and **{duration_text(limits.max_clip_s)}** · "
            f"frames up to {MAX_FRAME_SIDES[0]}×{MAX_FRAME_SIDES[1]} (portrait too). "
            f"Downloads are kept for {int(keep_files_s) // 60} minutes.")


def example_label(clip: Path) -> str:
    """'push_up_3reps.mp4' → 'push up (3 reps)': the files are named after what they show."""
    exercise, _, reps = clip.stem.rpartition("_")
    return f"{exercise.replace('_', ' ')} ({reps.removesuffix('reps')} reps)"


def user_message(error: VideoError) -> str:
    return f"**Could not count `{Path(error.path).name}`:** {error.problem}"


def _public_json(result: ClipResult, name: str) -> dict[str, Any]:
    """The CLI's JSON for a clip, naming the file as uploaded rather than by its server path."""
    return {**result.as_json(), "file": name}


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


@dataclass(frozen=True)
class UploadComponents:
    clip: gr.Video
    view: gr.Image
    count: gr.Markdown
    chart: gr.Plot
    status: gr.Markdown
    reps_chart: gr.Plot
    table: gr.Dataframe
    video: gr.Video
    files: gr.File
    summary: gr.JSON

    def outputs(self) -> list[Any]:
        """In the order the /analyze API returns them."""
        return [self.view, self.count, self.chart, self.status, self.table, self.video, self.files, self.summary,
                self.reps_chart]


class UploadTab:
    """The tab's handlers and the /count API, one instance per server; layout() makes its components."""

    def __init__(self, engine: Engine, runs: RunFolders, limits: ClipLimits) -> None:
        self.engine = engine
        self.runs = runs
        self.limits = limits
        self._ui: UploadComponents | None = None

    @property
    def ui(self) -> UploadComponents:
        if self._ui is None:
            raise RuntimeError("UploadTab.layout() makes the components; call it inside a gr.Blocks first")
        return self._ui

    def layout(self, examples: list[Path]) -> None:
        """The tab's components and events (inside build_demo's upload tab), the hidden /count API's too."""
        gr.Markdown(limits_text(self.limits, self.runs.keep_s), elem_id="limits")
        with gr.Row():
            with gr.Column(scale=1):
                clip = gr.Video(sources=["upload"], label="Clip", elem_id="vid_in")
                count_btn = gr.Button("Count reps", variant="primary", elem_id="count_btn")
                if examples:  # filling the box starts the count, through clip.change below
                    gr.Examples([[str(p)] for p in examples], inputs=[clip], elem_id="examples",
                                example_labels=[example_label(p) for p in examples],
                                label="Or try an example (synthetic clips made by scripts/make_examples.py)")
            with gr.Column(scale=2):
                view = gr.Image(label="Clip | flow", format="jpeg", interactive=False, elem_id="up_view")
        with gr.Row():
            with gr.Column(scale=1, min_width=180):
                count = gr.Markdown(count_markdown(0), elem_id="up_count")
                status = gr.Markdown("", elem_id="up_status")
            with gr.Column(scale=4):
                chart = gr.Plot(empty_chart(), show_label=False, elem_id="up_plot")
        with gr.Row():
            with gr.Column(scale=1):
                table = gr.Dataframe(pd.DataFrame([], columns=TABLE_HEADERS), label="Reps", interactive=False,
                                     elem_id="up_table")
                reps_chart = gr.Plot(label="Each rep: down and up times, speed", visible=False, elem_id="up_reps")
                gr.Markdown("Speed is that of the motion in the picture (optical flow), relative to the set's "
                            "first reps: it shows how much a set slowed down; it is not metres per second.",
                            elem_id="up_speed_note")
            video = gr.Video(label="Annotated video", interactive=False, elem_id="up_video")
        with gr.Row():
            files = gr.File(label="Downloads: annotated video and reps CSV", file_count="multiple",
                            interactive=False, elem_id="up_files")
            summary = gr.JSON(label="Result (what the /count API returns)", elem_id="up_json")
        ui = self._ui = UploadComponents(clip, view, count, chart, status, reps_chart, table, video, files, summary)
        upload_event: dict[str, Any] = {
            "fn": self.count_upload, "inputs": [clip], "outputs": ui.outputs(), "concurrency_limit": 2,
            "concurrency_id": "clips", "show_progress": "minimal", "show_progress_on": [status],
            "trigger_mode": "always_last"}
        count_btn.click(**upload_event, api_name="analyze")
        clip.change(**upload_event, api_visibility="private")  # an upload, an example, or a clear
        api_file = gr.File(visible=False, file_types=CLIP_TYPES)
        api_json = gr.JSON(visible=False)
        api_btn = gr.Button(visible=False)
        api_btn.click(self.count_json, inputs=[api_file], outputs=[api_json], api_name="count",
                      concurrency_limit=2, concurrency_id="clips")

    # the tab -----------------------------------------------------------------

    def count_upload(self, path: str | None,
                     progress: gr.Progress = gr.Progress()) -> Iterator[Updates]:  # noqa: B008 (Gradio's way)
        """Counts an uploaded clip, yielding the preview, count and chart a few times a second,
        then the final count, the reps table, the annotated video and the CSV."""
        if not path:
            yield self._message_only("Choose a clip (or an example) first.")
            return
        name = Path(path).name
        if not self.engine.ready():
            yield self._message_only(f"**Cannot count `{name}`.** {self.engine.error}")
            return
        yield self._message_only(f"Opening `{name}`…")
        try:
            self.limits.check_clip(path)
            exports = viz.ClipExports(path, self.runs.new())
        except VideoError as error:
            yield self._message_only(user_message(error))
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
                    yield self._progress(seen, name, time.perf_counter() - started)
        except BaseException:  # the visitor left (Gradio closes this generator): stop counting, drop the files
            seen.cancelled = True
            worker.join()
            exports.abort()
            raise
        if "error" in outcome:
            exports.abort()
            yield self._message_only(outcome["error"])
            return
        result: ClipResult = outcome["result"]
        video, reps_csv = exports.finish(result)
        yield self._final(result, seen, name, video, reps_csv)

    def _count_in_thread(self, path: str, exports: viz.ClipExports, seen: UploadProgress,
                         outcome: dict[str, Any]) -> None:
        def on_frame(index: int, total: int, result: FrameResult, frame: np.ndarray) -> None:
            if seen.cancelled:
                raise Cancelled()
            exports.on_frame(index, total, result, frame)
            seen.probabilities.append(result.probabilities)  # before times: readers slice by len(times)
            seen.times.append(result.time_s)
            seen.index, seen.total, seen.frame, seen.result = index + 1, total, frame, result

        try:
            outcome["result"] = count_clip(path, self.engine.new_session(), on_frame,
                                           max_seconds=self.limits.max_clip_s)
        except VideoError as error:
            outcome["error"] = user_message(error)
        except Cancelled:
            outcome["error"] = "Cancelled."
        except Exception as error:  # noqa: BLE001  a bug must not take the page down for everyone else
            traceback.print_exc()
            outcome["error"] = f"**Could not count `{Path(path).name}`:** unexpected error ({without_paths(str(error))})."

    def _message_only(self, status: str) -> Updates:
        """A message, with the results of an earlier clip cleared."""
        ui = self.ui
        return {ui.view: None, ui.count: count_markdown(0), ui.chart: empty_chart(), ui.status: status,
                ui.table: pd.DataFrame([], columns=TABLE_HEADERS), ui.video: None, ui.files: None, ui.summary: None,
                ui.reps_chart: gr.Plot(None, visible=False)}

    def _progress(self, seen: UploadProgress, name: str, elapsed: float) -> Updates:
        result, frame = seen.result, seen.frame
        assert result is not None and frame is not None
        share = f" ({100 * seen.index / seen.total:.0f} %)" if seen.total else ""
        rate = seen.index / max(elapsed, 1e-6)
        n = len(seen.times)
        ui = self.ui
        return {ui.view: side_by_side(frame, result, result.count), ui.count: count_markdown(result.count),
                ui.chart: viz.probability_figure(seen.times[:n], seen.probabilities[:n], CHART_WINDOW_S),
                ui.status: f"Counting `{name}`: frame {seen.index} of {seen.total or '?'}{share}, {rate:.0f} frames/s"}

    def _final(self, result: ClipResult, seen: UploadProgress, name: str, video: Path, reps_csv: Path) -> Updates:
        ui = self.ui
        updates: Updates = {
            ui.count: count_markdown(result.count),
            ui.chart: viz.probability_figure(seen.times, seen.probabilities, None, [r.end_s for r in result.reps]),
            ui.status: _done_text(result, name),
            ui.table: pd.DataFrame(viz.reps_rows(result.reps, result.analysis), columns=TABLE_HEADERS),
            ui.reps_chart: (gr.Plot(viz.rep_analysis_figure(result.analysis), visible=True)
                            if result.analysis is not None and result.reps else gr.Plot(None, visible=False)),
            ui.video: str(video),
            ui.files: [str(video), str(reps_csv)],
            ui.summary: _public_json(result, name)}
        if seen.frame is not None and seen.result is not None:
            updates[ui.view] = side_by_side(seen.frame, seen.result, result.count)
        return updates

    # API ---------------------------------------------------------------------

    def count_json(self, path: str | None) -> dict[str, Any]:
        """/count: a clip in, {"file", "count", "reps": [{"start_s", "end_s"}], "frames", ...} out."""
        if not path:
            raise gr.Error("No clip was sent.")
        if not self.engine.ready():
            raise gr.Error(self.engine.error)
        try:
            self.limits.check_clip(path)
            result = count_clip(path, self.engine.new_session(), max_seconds=self.limits.max_clip_s)
        except VideoError as error:
            raise gr.Error(f"Could not count {Path(error.path).name}: {error.problem}") from error
        return _public_json(result, Path(path).name)


def _done_text(result: ClipResult, name: str) -> str:
    """'Done: **1 rep** in `a.mp4` (…)', and any warning (a cut-off end) on its own line."""
    done = (f"Done: **{count_text(result.count, 'rep')}** in `{name}` ({result.frames} frames, "
            f"{result.fps_processed:.0f} frames/s).")
    return "\n\n".join([done, *(f"**Warning:** {without_paths(w)}" for w in result.warnings)])
