"""The "Upload a clip" tab and the /count API: a clip checked against the upload limits, counted in a
worker process (flowrep.ui.workers: a crash there fails that clip only) while the page shows its
progress, then the reps table and chart (each rep's down and up times and speed), the annotated
video, the CSV and the JSON that /count returns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from gradio.data_classes import FileData
from gradio.utils import NamedString

from flowrep import viz
from flowrep.limits import ClipLimits, duration_text
from flowrep.pipeline import ClipResult
from flowrep.plans import count_text
from flowrep.redact import without_paths
from flowrep.ui.count_worker import Cancelled, Job, Progress
from flowrep.ui.engine import Engine, RunFolders
from flowrep.ui.widgets import CHART_WINDOW_S, count_markdown, empty_chart
from flowrep.ui.workers import CountPool, WorkerCrashed, pool_size
from flowrep.video import MAX_FRAME_SIDES, VideoError

UPLOAD_UPDATE_EVERY_S = 0.3
CLIP_TYPES = [".mp4", ".mov", ".webm", ".avi", ".m4v", ".mkv"]
TABLE_HEADERS = ["rep", "start (s)", "end (s)", "duration (s)", *viz.ANALYSIS_TABLE_HEADERS]

Updates = dict[Any, Any]  # {output component: its new value}; outputs left out stay as they are


def limits_text(limits: ClipLimits, keep_files_s: float) -> str:
    return (
        f"Clips: mp4, mov, webm or avi · at most **{limits.max_upload_mb} MB** "
        f"and **{duration_text(limits.max_clip_s)}** · "
        f"frames up to {MAX_FRAME_SIDES[0]}×{MAX_FRAME_SIDES[1]} (portrait too). "
        f"Downloads are kept for {int(keep_files_s) // 60} minutes."
    )


def example_label(clip: Path) -> str:
    """'push_up_3reps.mp4' → 'push up (3 reps)': the files are named after what they show."""
    exercise, _, reps = clip.stem.rpartition("_")
    return f"{exercise.replace('_', ' ')} ({reps.removesuffix('reps')} reps)"


def user_message(error: VideoError) -> str:
    return f"**Could not count `{Path(error.path).name}`:** {error.problem}"


def _public_json(result: ClipResult, name: str) -> dict[str, Any]:
    """The CLI's JSON for a clip, naming the file as uploaded rather than by its server path."""
    return {**result.as_json(), "file": name}


def clip_file(file_types: list[str]) -> gr.File:
    """The /count API's (hidden) clip input. Gradio 6.31's File opens a NamedTemporaryFile in the upload
    cache for each file it hands on, and neither writes nor removes it: one empty `tmp*` file per call
    (scripts/fuzz.py found them; the janitor would sweep them only after PARTIAL_AFTER_S). This one
    hands the upload's own path on. (On the instance: a subclass of a Gradio component makes Gradio
    write a .pyi stub next to this module.) Its type is checked by content, as every entry's is
    (flowrep.video), not by its name, so a refused file gets the same line as on the page and the CLI."""
    file = gr.File(visible=False, file_types=file_types)

    def hand_on(f: FileData) -> NamedString:
        return NamedString(f.path)

    file._process_single_file = hand_on  # type: ignore[method-assign]
    return file


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
        return [
            self.view,
            self.count,
            self.chart,
            self.status,
            self.table,
            self.video,
            self.files,
            self.summary,
            self.reps_chart,
        ]


class UploadTab:
    """The tab's handlers and the /count API, one instance per server; layout() makes its components."""

    def __init__(self, engine: Engine, runs: RunFolders, limits: ClipLimits, pool: CountPool | None = None) -> None:
        self.engine = engine
        self.runs = runs
        self.limits = limits
        self.pool = pool or CountPool(engine.signal_name, engine.weights, pool_size())
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
                    gr.Examples(
                        [[str(p)] for p in examples],
                        inputs=[clip],
                        elem_id="examples",
                        example_labels=[example_label(p) for p in examples],
                        label="Or try an example (synthetic clips made by scripts/make_examples.py)",
                    )
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
                table = gr.Dataframe(
                    pd.DataFrame([], columns=TABLE_HEADERS), label="Reps", interactive=False, elem_id="up_table"
                )
                reps_chart = gr.Plot(label="Each rep: down and up times, speed", visible=False, elem_id="up_reps")
                gr.Markdown(
                    "Speed is that of the motion in the picture (optical flow), relative to the set's "
                    "first reps: it shows how much a set slowed down; it is not metres per second.",
                    elem_id="up_speed_note",
                )
            video = gr.Video(label="Annotated video", interactive=False, elem_id="up_video")
        with gr.Row():
            files = gr.File(
                label="Downloads: annotated video and reps CSV",
                file_count="multiple",
                interactive=False,
                elem_id="up_files",
            )
            summary = gr.JSON(label="Result (what the /count API returns)", elem_id="up_json")
        ui = self._ui = UploadComponents(clip, view, count, chart, status, reps_chart, table, video, files, summary)
        upload_event: dict[str, Any] = {
            "fn": self.count_upload,
            "inputs": [clip],
            "outputs": ui.outputs(),
            "concurrency_limit": 2,
            "concurrency_id": "clips",
            "show_progress": "minimal",
            "show_progress_on": [status],
            "trigger_mode": "always_last",
        }
        count_btn.click(**upload_event, api_name="analyze")
        clip.change(**upload_event, api_visibility="private")  # an upload, an example, or a clear
        api_file = clip_file(CLIP_TYPES)
        api_json = gr.JSON(visible=False)
        api_btn = gr.Button(visible=False)
        api_btn.click(
            self.count_json,
            inputs=[api_file],
            outputs=[api_json],
            api_name="count",
            concurrency_limit=2,
            concurrency_id="clips",
        )

    # the tab -----------------------------------------------------------------

    def count_upload(self, path: str | None, progress: gr.Progress = gr.Progress()) -> Iterator[Updates]:  # noqa: B008 (Gradio's way)
        """Counts an uploaded clip in a worker process, yielding the preview, count and chart a few
        times a second, then the final count, the reps table, the annotated video and the CSV."""
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
        except VideoError as error:
            yield self._message_only(user_message(error))
            return
        run_dir = self.runs.new()
        started = time.perf_counter()
        counted = None
        try:
            with self.pool.run(Job(path, self.limits.max_clip_s, str(run_dir))) as running:
                for seen in running:
                    progress(seen.index / max(seen.total, 1), desc=f"frame {seen.index} of {seen.total or '?'}")
                    yield self._progress(seen, name, time.perf_counter() - started)
                counted = running.result()
        except VideoError as error:
            yield self._message_only(user_message(error))
        except WorkerCrashed as error:
            yield self._message_only(f"**Could not count `{name}`:** {error}")
        except Cancelled:
            yield self._message_only("Cancelled.")
        except RuntimeError as error:  # a bug in the worker: this clip fails, the page goes on
            yield self._message_only(f"**Could not count `{name}`:** unexpected error ({error}).")
        finally:
            if counted is None:  # failed, cancelled, or the visitor left (Gradio closes this generator)
                self.runs.remove(run_dir)
        if counted is not None:
            assert counted.video is not None and counted.reps_csv is not None
            yield self._final(counted.result, running.progress, name, counted.video, counted.reps_csv)

    def _message_only(self, status: str) -> Updates:
        """A message, with the results of an earlier clip cleared."""
        ui = self.ui
        return {
            ui.view: None,
            ui.count: count_markdown(0),
            ui.chart: empty_chart(),
            ui.status: status,
            ui.table: pd.DataFrame([], columns=TABLE_HEADERS),
            ui.video: None,
            ui.files: None,
            ui.summary: None,
            ui.reps_chart: gr.Plot(None, visible=False),
        }

    def _progress(self, seen: Progress, name: str, elapsed: float) -> Updates:
        share = f" ({100 * seen.index / seen.total:.0f} %)" if seen.total else ""
        rate = seen.index / max(elapsed, 1e-6)
        n = len(seen.times)
        ui = self.ui
        return {
            ui.view: seen.view,
            ui.count: count_markdown(seen.count),
            ui.chart: viz.probability_figure(seen.times[:n], seen.probabilities[:n], CHART_WINDOW_S),
            ui.status: f"Counting `{name}`: frame {seen.index} of {seen.total or '?'}{share}, {rate:.0f} frames/s",
        }

    def _final(self, result: ClipResult, seen: Progress, name: str, video: Path, reps_csv: Path) -> Updates:
        ui = self.ui
        updates: Updates = {
            ui.count: count_markdown(result.count),
            ui.chart: viz.probability_figure(seen.times, seen.probabilities, None, [r.end_s for r in result.reps]),
            ui.status: _done_text(result, name),
            ui.table: pd.DataFrame(viz.reps_rows(result.reps, result.analysis), columns=TABLE_HEADERS),
            ui.reps_chart: (
                gr.Plot(viz.rep_analysis_figure(result.analysis), visible=True)
                if result.analysis is not None and result.reps
                else gr.Plot(None, visible=False)
            ),
            ui.video: str(video),
            ui.files: [str(video), str(reps_csv)],
            ui.summary: _public_json(result, name),
        }
        if seen.view is not None:
            updates[ui.view] = seen.view
        return updates

    # API ---------------------------------------------------------------------

    def count_json(self, path: str | None) -> dict[str, Any]:
        """/count: a clip in, {"file", "count", "reps": [{"start_s", "end_s"}], "frames", ...} out."""
        if not path:
            raise gr.Error("No clip was sent.")
        if not self.engine.ready():
            raise gr.Error(self.engine.error or "Counting is off.")
        name = Path(path).name
        try:
            self.limits.check_clip(path)
            result = self.pool.count(Job(path, self.limits.max_clip_s, progress_every_s=None)).result
        except VideoError as error:
            raise gr.Error(f"Could not count {name}: {error.problem}") from error
        except (WorkerCrashed, RuntimeError) as error:
            raise gr.Error(f"Could not count {name}: {error}") from error
        return _public_json(result, name)


def _done_text(result: ClipResult, name: str) -> str:
    """'Done: **1 rep** in `a.mp4` (…)', and any warning (a cut-off end) on its own line."""
    done = (
        f"Done: **{count_text(result.count, 'rep')}** in `{name}` ({result.frames} frames, "
        f"{result.fps_processed:.0f} frames/s)."
    )
    return "\n\n".join([done, *(f"**Warning:** {without_paths(w)}" for w in result.warnings)])
