"""The session: one stream's whole chain, frame in → everything a screen needs out.

Owns the order of the steps (flow → colour coding → probabilities → repetition evidence → counter)
for one stream, and `count_clip`, the one way every caller (CLI, benchmark, upload page) counts a
file. A live session (a webcam set) counts reps as they happen; a file is counted on its whole
clip's evidence, of which the session keeps a few numbers a frame, never the frames. One of them,
the picture's mean flow speed, gives each rep's speed (see flowrep.analysis).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from .analysis import SetAnalysis, analyse_set
from .conditions import CAMERA_FPS, Ticks
from .counter import CounterSettings, Rep, RepCounter
from .flow import DEFAULT_FLOW_SIZE, EncodedFlow, FlowEncoder, FlowMethod
from .framing import Box
from .signals import ProbabilitySource, SignalName, make_signal
from .video import ClipReader, FrameTransform, VideoError, frame_shape_problem

STILL = np.array([0.0, 1.0, 0.0])
#: A pause in a live stream longer than this (the camera stopped, then started again) starts the
#: flow afresh from the next frame instead of comparing it with a stale one; the count is kept.
STREAM_GAP_S = 1.0
#: A live stream's frames may come this much of a tick early (arrival jitter) and still be counted.
_EARLY_TICKS = 0.4


class FrameError(ValueError):
    """A frame the session cannot take (wrong type, wrong shape, or a new size mid-stream)."""


class FrameSizeChanged(FrameError):
    """A frame of another size than the stream's first: a camera that switched resolution starts a new set."""


@dataclass(frozen=True)
class FrameResult:
    time_s: float
    flow_bgr: np.ndarray | None  # colour-coded flow, true directions; None for the first frame
    probabilities: np.ndarray  # P(down), P(still), P(up)
    count: int  # live: the reps so far; a file: the reps judged for good so far (final at the end)
    rep: Rep | None  # the (newest) rep counted at this frame, if any
    crop: Box | None = None  # the part of the frame the CNN looked at (None: all of it)


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.size == 0:
        raise FrameError("a frame must be a non-empty image array")
    if frame.dtype != np.uint8:
        raise FrameError(f"frames must be 8-bit images, not {frame.dtype}")
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return frame
    raise FrameError(f"frames must be H×W, H×W×3 or H×W×4 images, not {frame.shape}")


class Session:
    """Counts one stream of frames: a webcam set (`live`, reps counted as they happen) or a clip
    (counted on its whole evidence when it ends).

    A live set counts at most `live_fps` frames a second (the page camera's rate, at which the live
    counter was chosen; faster, its first reps can come in bursts): a frame that comes sooner is shown
    with the last frame's reading and not counted. A file counts every frame."""

    def __init__(
        self,
        signal: SignalName | ProbabilitySource = "cnn",
        flow_method: FlowMethod = "dis",
        flow_size: int = DEFAULT_FLOW_SIZE,
        counter_settings: CounterSettings | None = None,
        live: bool = True,
        live_fps: float = CAMERA_FPS,
    ) -> None:
        self._signal = make_signal(signal) if isinstance(signal, str) else signal
        self._encoder = FlowEncoder(flow_method, flow_size)
        self._counter_settings = counter_settings or CounterSettings()
        self._live_fps = live_fps
        self.live = live
        self.reset()

    def reset(self, live: bool | None = None) -> None:
        """Starts a new set (live or not, as given; otherwise as before): count 0, no memory of
        earlier frames."""
        self.live = self.live if live is None else live
        self._encoder.reset()
        self.counter = RepCounter(self._counter_settings, live=self.live)
        self.reps: list[Rep] = []
        self._size: tuple[int, int] | None = None
        self._last_time: float | None = None  # the last frame's
        self._counted_time: float | None = None  # the last counted frame's
        self._ticks = Ticks(self._live_fps, _EARLY_TICKS / self._live_fps) if self.live else None
        self._last_result: FrameResult | None = None
        self._last_seen: tuple[EncodedFlow | None, np.ndarray] = (None, STILL)
        self._speed_times_s = array("d")  # per frame with flow of its own: its time and mean flow speed
        self._speeds = array("d")
        self.live_count_at_end: int | None = None  # what a live set's count showed before `finish` counted it

    @property
    def count(self) -> int:
        return self.counter.count

    def analysis(self) -> SetAnalysis:
        """The per-rep analysis of the reps so far (a file's: all of them, once finished)."""
        return analyse_set(self.reps, np.array(self._speed_times_s), np.array(self._speeds))

    def process(self, frame: np.ndarray, time_s: float) -> FrameResult:
        """Takes the next frame (BGR, or grey) and its timestamp in seconds."""
        image = _as_bgr(frame)
        size = (image.shape[1], image.shape[0])
        if problem := frame_shape_problem(*size):
            raise FrameError(problem)
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise FrameSizeChanged(f"frame size changed from {self._size[0]}×{self._size[1]} to {size[0]}×{size[1]}")
        if self._last_time is not None and time_s <= self._last_time:
            raise FrameError(f"timestamps must increase ({time_s:.3f} s after {self._last_time:.3f} s)")
        self._last_time = time_s
        if self._ticks is not None and not self._ticks.take(time_s) and self._last_result is not None:
            return replace(self._last_result, time_s=time_s, rep=None)
        dt = 0.0 if self._counted_time is None else time_s - self._counted_time
        self._counted_time = time_s
        if dt > STREAM_GAP_S:
            self._encoder.restart_flow()
        encoded = self._encoder(image, dt)
        if self._encoder.repeated:
            # A copy of the last frame says nothing new: the last frame's reading stands (not "still").
            return self._feed(time_s, *self._last_seen, repeated=True)
        if encoded is None:  # the stream's first frame: nothing to compare it with yet
            self._last_seen = (None, STILL)
            return self._feed(time_s, None, STILL)
        probabilities = self._signal(encoded)
        self._last_seen = (encoded, probabilities)
        self._speed_times_s.append(time_s)
        self._speeds.append(encoded.mean_speed)
        return self._feed(time_s, encoded, probabilities)

    def finish(self) -> list[Rep]:
        """The stream has ended: the set is counted on its whole evidence (a live set's last reps are
        added, or ones its live count showed are taken back; `live_count_at_end` keeps that count).
        Returns the reps not counted before (a file's are all of them)."""
        self.live_count_at_end = self.counter.count if self.live else None
        new = self.counter.finish()
        self.reps = list(self.counter.reps)
        return new

    def _feed(
        self, time_s: float, encoded: EncodedFlow | None, probabilities: np.ndarray, repeated: bool = False
    ) -> FrameResult:
        """Gives the counter one frame's reading; a stream's first frame has no flow, so no motion
        features."""
        features = None if encoded is None else encoded.coarse_field
        new = self.counter.update(time_s, probabilities, features, repeated=repeated)
        self.reps.extend(new)
        rep = new[-1] if new else None
        if encoded is None:
            self._last_result = FrameResult(time_s, None, probabilities, self.counter.count, rep)
        else:
            self._last_result = FrameResult(
                time_s, encoded.display_bgr, probabilities, self.counter.count, rep, encoded.crop
            )
        return self._last_result


@dataclass
class ClipResult:
    file: str
    count: int
    reps: list[Rep]
    frames: int
    seconds: float  # wall time spent, decoding included
    fps: float  # the clip's own frame rate
    error: str | None = None
    warnings: list[str] = field(default_factory=list)  # counted, but the count may be off (a cut end)
    analysis: SetAnalysis | None = None  # the reps' times and speeds (None: from the reps' times alone)
    live_count: int | None = None  # live: what the count showed as the clip ended, before its final count

    @property
    def fps_processed(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "count": self.count,
            "reps": [{"start_s": round(r.start_s, 3), "end_s": round(r.end_s, 3)} for r in self.reps],
            "frames": self.frames,
            "fps_processed": round(self.fps_processed, 1),
            "warnings": list(self.warnings),
            **(self.analysis or analyse_set(self.reps)).as_json(),
        }


FrameCallback = Callable[[int, int, FrameResult, np.ndarray], None]


def count_clip(
    path: str | Path,
    session: Session | None = None,
    on_frame: FrameCallback | None = None,
    transform: FrameTransform | None = None,
    live: bool = False,
    max_seconds: float | None = None,
) -> ClipResult:
    """Counts a clip frame by frame. on_frame(index, total_frames, result, frame) sees every frame (and
    the live count); transform, if given, changes the stream of frames before it is counted (the
    benchmark's camera variants: a farther camera, a browser webcam's delivery). The count and reps
    are the whole clip's, and so they are with `live` (the live counter's, counted as a webcam set is
    when it ends; `live_count` is what it showed before).
    A clip longer than `max_seconds` (by its header, or by its frames' times as they are decoded) is
    refused; None counts any length.

    Raises VideoError (with the file and the problem) if the clip cannot be read to its end; a clip
    whose end is cut off by a little is counted, with a warning in the result.
    """
    started = time.perf_counter()
    reader = ClipReader(path, max_seconds)
    session = session or Session()
    session.reset(live=live)
    frames = 0
    for frame in reader if transform is None else transform(reader):
        try:
            result = session.process(frame.image, frame.time_s)
        except FrameError as error:
            raise VideoError(path, f"{error} at frame {frame.index}") from error
        frames += 1
        if on_frame is not None:
            on_frame(frame.index, reader.info.frame_count, result, frame.image)
    session.finish()
    warnings = [reader.warning] if reader.warning else []
    return ClipResult(
        str(path),
        session.count,
        list(session.reps),
        frames,
        time.perf_counter() - started,
        reader.info.fps,
        warnings=warnings,
        analysis=session.analysis(),
        live_count=session.live_count_at_end,
    )
