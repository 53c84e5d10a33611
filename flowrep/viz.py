"""Drawing and exports: everything a screen or a file shows about a counted stream.

Owns the side-by-side frame (original | colour-coded flow, with the live count drawn on it, and
the part of the picture the CNN looks at outlined when it frames a person small in the picture), the
Plotly chart of P(down), P(still), P(up) over time, the chart of each rep's speed and down / up
times, the annotated-video writer (H.264 mp4 that browsers play), the reps CSV, and `ClipExports`,
which the CLI (`flowrep count --out-dir`) and the demo page both use so that their files are the
same. Nothing here counts.
"""

from __future__ import annotations

import csv
import math
import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import imageio_ffmpeg
import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go

from .analysis import SetAnalysis, analyse_set
from .counter import Rep
from .framing import Box
from .pipeline import ClipResult, FrameResult
from .video import probe

#: Height of the side-by-side frame on screens and in annotated videos (keeps files and CPU small).
VIEW_HEIGHT = 360
SERIES = (("P(down)", "#1f77b4"), ("P(still)", "#9a9a9a"), ("P(up)", "#ff7f0e"))
CSV_HEADER = ("number", "start_s", "turn_s", "end_s", "duration_s", "down_s", "up_s", "flow_speed", "relative_speed")
#: Headers of the columns `reps_rows` adds when given the set's analysis.
ANALYSIS_TABLE_HEADERS = ("down (s)", "up (s)", "speed (× first reps)")
#: Brightness gain of the flow on screens: at the CNN's fixed scale most motion is dim (a squat's
#: brightest 1 % of pixels at about 60 of 255), so a screen shows it this much brighter.
FLOW_DISPLAY_GAIN = 2.5
#: What the flow view's colours mean, drawn under it and said on the page.
FLOW_LEGEND = "colour = direction, brightness = speed"
#: Most points per series sent to a chart; longer histories are thinned evenly.
MAX_CHART_POINTS = 1500
#: Highest frame rate of an annotated video: every k-th frame of a faster clip is kept. Encoding
#: every frame of a 30 fps clip halved the speed of counting an upload; 15 fps shows each rep well.
ANNOTATED_MAX_FPS = 15.0


def _even(n: int) -> int:
    return max(2, n - n % 2)  # yuv420p needs even sides


def _fit_height(image: np.ndarray, height: int) -> np.ndarray:
    width = _even(round(image.shape[1] * height / image.shape[0]))
    interpolation = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _draw_label(image: np.ndarray, text: str, origin: tuple[int, int], scale: float) -> None:
    """White text with a thin black outline, shrunk if needed to fit the image's width."""
    room = image.shape[1] - 2 * origin[0]
    width = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)[0][0]
    if width > room > 0:
        scale *= room / width
    thickness = max(1, round(2 * scale))
    # A thicker stroke also widens Hershey glyph spacing, so the outline is the same text shifted.
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            shifted = (origin[0] + dx * thickness, origin[1] + dy * thickness)
            cv2.putText(image, text, shifted, cv2.FONT_HERSHEY_DUPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_DUPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def side_by_side(
    frame_bgr: np.ndarray,
    flow_bgr: np.ndarray | None,
    count: int | None,
    height: int = VIEW_HEIGHT,
    crop: Box | None = None,
) -> np.ndarray:
    """Original | flow (black before the first flow, brightened for the eye), both `height` tall,
    the count (if any) at the bottom left (a page's image label sits at the top left), a legend
    under the flow, and the crop the CNN looks at (if any) outlined on the original."""
    height = _even(height)
    left = _fit_height(frame_bgr, height)
    if crop is not None:
        _draw_crop(left, crop)
    if flow_bgr is None:
        right = np.zeros_like(left)
    else:
        right = brighter_flow(cv2.resize(flow_bgr, (left.shape[1], height), interpolation=cv2.INTER_LINEAR))
    scale = height / 240
    if count is not None:
        _draw_label(left, f"reps {count}", (round(10 * scale), height - round(12 * scale)), 1.1 * scale)
    _draw_label(right, FLOW_LEGEND, (round(8 * scale), height - round(10 * scale)), 0.42 * scale)
    return np.hstack([left, right])


def brighter_flow(flow_bgr: np.ndarray, gain: float = FLOW_DISPLAY_GAIN) -> np.ndarray:
    """The colour-coded flow with its brightness (HSV value) times `gain`, hue kept."""
    hsv = cv2.cvtColor(flow_bgr, cv2.COLOR_BGR2HSV)
    hsv[..., 2] = cv2.convertScaleAbs(hsv[..., 2], alpha=gain)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def _draw_crop(image: np.ndarray, crop: Box) -> None:
    height, width = image.shape[:2]
    corner_a = (round(crop[0] * (width - 1)), round(crop[1] * (height - 1)))
    corner_b = (round(crop[2] * (width - 1)), round(crop[3] * (height - 1)))
    cv2.rectangle(image, corner_a, corner_b, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.rectangle(image, corner_a, corner_b, (80, 220, 255), 1, cv2.LINE_AA)


def _thin(times: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(times) <= MAX_CHART_POINTS:
        return times, probabilities
    keep = np.linspace(0, len(times) - 1, MAX_CHART_POINTS).round().astype(int)
    return times[keep], probabilities[keep]


def probability_figure(
    times: npt.ArrayLike, probabilities: npt.ArrayLike, window_s: float | None = 8.0, rep_ends: Sequence[float] = ()
) -> go.Figure:
    """Lines of P(down), P(still), P(up) against time (s). With window_s, only the last window_s
    seconds are shown; rep_ends adds a dotted line where each rep ended."""
    t = np.asarray(times, float)
    p = np.asarray(probabilities, float).reshape(-1, 3)
    end = float(t[-1]) if len(t) else 0.0
    start = max(0.0, end - window_s) if window_s else 0.0
    if window_s and len(t):
        inside = t >= start
        t, p = t[inside], p[inside]
    t, p = _thin(t, p)
    x = np.round(t, 3).tolist()  # plain lists: small JSON, and readable in the page's Plotly data
    lines = [
        {
            "type": "scatter",
            "x": x,
            "y": np.round(p[:, k], 3).tolist(),
            "name": name,
            "mode": "lines",
            "line": {"color": colour, "width": 2},
        }
        for k, (name, colour) in enumerate(SERIES)
    ]
    marks = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": e,
            "x1": e,
            "y0": 0,
            "y1": 1,
            "line": {"dash": "dot", "width": 1, "color": "#2ca02c"},
        }
        for e in rep_ends
        if start <= e <= end
    ]
    layout = {
        "height": 260,
        "margin": {"l": 40, "r": 10, "t": 10, "b": 35},
        "uirevision": "flowrep",
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "shapes": marks,
        "xaxis": {"range": [start, max(end, start + (window_s or 1.0))], "title": {"text": "seconds"}},
        "yaxis": {"range": [0, 1.02], "title": {"text": "probability"}},
    }
    # Built from plain dicts without Plotly's validation: 1.5 ms instead of 11 ms, on the webcam's frame path.
    return go.Figure({"data": lines, "layout": layout}, _validate=False)


def reps_rows(reps: Sequence[Rep], analysis: SetAnalysis | None = None) -> list[list[float | int | None]]:
    """Rows of (number, start, end, duration) in seconds, rounded for display; with the set's
    analysis, each row goes on with its down and up times and relative speed (ANALYSIS_TABLE_HEADERS)."""
    rows: list[list[float | int | None]] = [
        [r.number, round(r.start_s, 2), round(r.end_s, 2), round(r.duration_s, 2)] for r in reps
    ]
    if analysis is not None:
        for row, a in zip(rows, analysis.reps):
            row += [round(a.down_s, 2), round(a.up_s, 2), _rounded(a.relative_speed, 2)]
    return rows


def write_reps_csv(reps: Sequence[Rep], path: Path, analysis: SetAnalysis | None = None) -> Path:
    """One row per rep: its times (s), then its down / up times, flow speed and relative speed
    (see flowrep.analysis; empty where unknown, and the speeds always without `analysis`)."""
    analysed = (analysis or analyse_set(reps)).reps
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for r, a in zip(reps, analysed):
            times = (r.start_s, r.turn_s, r.end_s, r.duration_s, a.down_s, a.up_s)
            speeds = (_formatted(a.flow_speed, 5), _formatted(a.relative_speed, 3))
            writer.writerow([r.number, *(f"{t:.3f}" for t in times), *speeds])
    return path


def rep_analysis_figure(analysis: SetAnalysis) -> go.Figure:
    """Per rep: its down and up times (stacked bars: the rep's duration, seconds) and its speed
    relative to the set's first reps (a line, right axis); the speed loss, when known, in the title."""
    numbers = [a.number for a in analysis.reps]
    title = "" if analysis.speed_loss is None else f"speed loss {100 * analysis.speed_loss:.0f} %"
    return rep_times_figure(
        numbers,
        [round(a.down_s, 2) for a in analysis.reps],
        [round(a.up_s, 2) for a in analysis.reps],
        (numbers, [_rounded(a.relative_speed, 3) for a in analysis.reps]),
        speed_name="speed (× first reps)",
        x_title="rep",
        speed_axis={"title": {"text": "speed (× first reps)"}, "tickmode": "linear", "dtick": 0.5},
        height=280,
        margin={"l": 40, "r": 45, "t": 50, "b": 35},
        title={"text": title, "x": 0.99, "xanchor": "right", "y": 0.97, "yanchor": "top", "font": {"size": 13}},
        legend_y=1.02,
    )


def rep_times_figure(
    x: Sequence[int],
    downs: Sequence[float],
    ups: Sequence[float],
    speed_line: tuple[Sequence[int | None], Sequence[float | None]],
    speed_name: str,
    x_title: str,
    speed_axis: dict[str, Any],
    legend_y: float,
    bar_options: dict[str, Any] | None = None,
    **layout: Any,
) -> go.Figure:
    """The per-rep chart's shape, shared by one set's (`rep_analysis_figure`) and a workout's
    (flowrep.ui.workout_chart): down and up times as stacked bars (seconds) and the relative speed as
    a line on a right axis (`speed_axis` adds to that axis); `layout` adds to the figure's layout."""
    bars = bar_options or {}
    down = go.Bar(x=x, y=downs, name="down (s)", marker_color="#1f77b4", **bars)
    up = go.Bar(x=x, y=ups, name="up (s)", marker_color="#ff7f0e", **bars)
    speed = go.Scatter(
        x=speed_line[0],
        y=speed_line[1],
        yaxis="y2",
        name=speed_name,
        mode="lines+markers",
        connectgaps=False,
        line={"color": "#2ca02c", "width": 2},
    )
    figure_layout = go.Layout(
        barmode="stack",
        legend={"orientation": "h", "x": 0, "y": legend_y, "yanchor": "bottom", "traceorder": "normal"},
        xaxis={"title": {"text": x_title}, "tickmode": "linear", "dtick": 1 if len(x) <= 20 else 5},
        yaxis={"title": {"text": "seconds"}, "rangemode": "tozero"},
        yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False, **speed_axis},
        **layout,
    )
    return go.Figure([down, up, speed], figure_layout)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _formatted(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


#: What the video writer's thread draws: frame, colour-coded flow, count shown, the CNN's crop.
_VideoFrame = tuple[np.ndarray, np.ndarray | None, int, Box | None]


class AnnotatedVideoWriter:
    """Writes side-by-side frames as H.264 mp4 (yuv420p, faststart) with imageio-ffmpeg's own ffmpeg.

    Drawing and encoding run on a thread of their own, so a caller that is counting frames does not
    wait for the encoder; `close` waits for the last frame and raises what went wrong there, if anything.
    """

    def __init__(self, path: Path, fps: float, height: int = VIEW_HEIGHT) -> None:
        self.path = path
        self.fps = fps
        self.height = height
        self._frames: queue.Queue[_VideoFrame | None] = queue.Queue(maxsize=16)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, daemon=True)
        self._thread.start()

    def write(self, frame_bgr: np.ndarray, flow_bgr: np.ndarray | None, count: int, crop: Box | None = None) -> None:
        if self._error is not None:
            raise RuntimeError(f"writing {self.path} failed: {self._error}") from self._error
        self._frames.put((frame_bgr, flow_bgr, count, crop))

    def close(self) -> None:
        if self._thread.is_alive():
            self._frames.put(None)
            self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"writing {self.path} failed: {self._error}") from self._error

    def abort(self) -> None:
        try:
            self.close()
        except RuntimeError:
            pass
        self.path.unlink(missing_ok=True)

    def _encode(self) -> None:
        writer = None
        try:
            while (item := self._frames.get()) is not None:
                frame, flow, count, crop = item
                image = side_by_side(frame, flow, count, self.height, crop)
                if writer is None:  # started on the first frame, when the size is known
                    writer = imageio_ffmpeg.write_frames(
                        str(self.path),
                        (image.shape[1], image.shape[0]),
                        pix_fmt_in="yuv420p",
                        fps=self.fps,
                        codec="libx264",
                        macro_block_size=2,
                        ffmpeg_log_level="error",
                        output_params=[
                            "-preset",
                            "ultrafast",
                            "-crf",
                            "27",
                            "-threads",
                            "1",
                            "-movflags",
                            "+faststart",
                        ],
                    )
                    writer.send(None)
                # OpenCV's BT.601 conversion is twice as fast as ffmpeg's bgr24 path, and halves the piped bytes.
                writer.send(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420))
        except BaseException as error:  # kept for close(); the queue is drained so write() never blocks
            self._error = error
            while self._frames.get() is not None:
                pass
        finally:
            if writer is not None:
                writer.close()


class ClipExports:
    """The files one counted clip produces: `<stem>.annotated.mp4` (at most ANNOTATED_MAX_FPS) and
    `<stem>.reps.csv`.

    Pass `on_frame` to `count_clip`, then call `finish` with its result (or `abort` on an error).
    """

    def __init__(
        self, clip: str | Path, out_dir: str | Path, height: int = VIEW_HEIGHT, max_fps: float = ANNOTATED_MAX_FPS
    ) -> None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = Path(clip).stem
        self.video_path = out / f"{stem}.annotated.mp4"
        self.csv_path = out / f"{stem}.reps.csv"
        clip_fps = probe(clip).fps
        self._every = max(1, math.ceil(clip_fps / max_fps - 1e-6))
        self.fps = clip_fps / self._every
        self._video = AnnotatedVideoWriter(self.video_path, self.fps, height)
        self._last: tuple[np.ndarray, FrameResult] | None = None

    def on_frame(self, index: int, total: int, result: FrameResult, frame_bgr: np.ndarray) -> None:
        if index % self._every:
            return
        self._video.write(frame_bgr, result.flow_bgr, result.count, result.crop)
        self._last = (frame_bgr, result)

    def finish(self, result: ClipResult) -> tuple[Path, Path]:
        if self._last is not None and self._last[1].count != result.count:
            # The end of the stream completed a rep: hold the last frame half a second with the final count.
            frame, last = self._last
            for _ in range(max(1, round(self.fps / 2))):
                self._video.write(frame, last.flow_bgr, result.count, last.crop)
        self._video.close()
        write_reps_csv(result.reps, self.csv_path, result.analysis)
        return self.video_path, self.csv_path

    def abort(self) -> None:
        self._video.abort()
        self.csv_path.unlink(missing_ok=True)
