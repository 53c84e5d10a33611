"""The benchmark: a folder of labelled clips → per-clip counts and the summary figures.

Owns reading labels.csv, running the live counter over every clip in one process, and the figures
the issues are judged by: MAE (mean |pred − true| / true), OBO (share with |pred − true| ≤ 1),
frames per second of wall time (decoding included), peak resident memory, the time per frame
spent in the probability source (the CNN's forward pass, on the one thread a session uses), and how
long after a rep's motion ends its count is shown. Where labels.csv gives each rep's end
(`cycle_end_frames`), the counted reps are also matched to the true ones in time, so that reps
missed in one stretch and counted twice in another show, even when the totals agree. With
`farther`, every clip is counted as if filmed from that many times as far away (see
`farther_camera`), to measure how counts hold up when the person is small in the picture; with
`still_s`, with that long of the still scene before and after (see `still_edges`), as a set filmed
from before the person starts until after they stop; with `pause_s`, with the picture held that long
after every rep but the last (see `pauses_after`), as a person who pauses between reps.
"""

from __future__ import annotations

import csv
import math
import resource
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from .conditions import WebcamConditions, farther_camera, pauses_after, still_edges
from .flow import EncodedFlow, FlowMethod
from .pipeline import Session, count_clip
from .signals import ProbabilitySource
from .video import Frame, FrameTransform, VideoError, probe

#: How far (a share of the spacing of the true reps) a counted rep's end may be from its true one.
_MATCH_SHARE = 0.75


class LabelsError(Exception):
    """labels.csv is missing or unusable; str() says why."""


@dataclass(frozen=True)
class Label:
    file: str
    count: int
    end_frames: list[int] | None = None  # the frame each true rep ends on, where labels.csv says
    set_frames: tuple[int, int] | None = None  # the set's first and last frame, where labels.csv says


class RepMatch(NamedTuple):
    """Counted reps against the true ones, in time: each true rep's end pairs with at most one
    counted rep ending near it (see `match_reps`)."""

    missed: int  # true reps no counted rep ended near
    extra: int  # counted reps that ended near no true rep
    end_errors_s: tuple[float, ...] = ()  # each paired rep's |counted end − true end|


def match_reps(true_ends_s: list[float], counted_ends_s: list[float]) -> RepMatch:
    """Pairs counted rep ends with true ones in time order; a true end accepts a counted end within
    `_MATCH_SHARE` of the spacing to its nearer neighbour: the counter may close a cycle at its other
    turn, or at a rhythm's own phase, up to half a rep or more from where the labels put its end."""
    true, counted = sorted(true_ends_s), sorted(counted_ends_s)
    gaps = np.diff(true)
    tolerances = _MATCH_SHARE * np.minimum(np.r_[math.inf, gaps], np.r_[gaps, math.inf])
    missed = extra = 0
    errors: list[float] = []
    i = j = 0
    while i < len(true) and j < len(counted):
        if abs(counted[j] - true[i]) <= tolerances[i]:
            errors.append(abs(counted[j] - true[i]))
            i, j = i + 1, j + 1
        elif counted[j] < true[i]:
            extra, j = extra + 1, j + 1
        else:
            missed, i = missed + 1, i + 1
    return RepMatch(missed + len(true) - i, extra + len(counted) - j, tuple(errors))


@dataclass
class ClipScore:
    file: str
    true: int
    pred: int
    seconds: float
    frames: int
    error: str | None = None
    delays_s: list[float] = field(default_factory=list)  # live, per rep: count shown − end of its motion
    first_count_reps: int = 0  # live: how many reps the clip's first count showed at once
    match: RepMatch | None = None  # None where labels.csv does not say when each rep ends
    live_count: int | None = None  # live: what the count showed as the clip ended, before its final count

    def as_json(self) -> dict[str, object]:
        row: dict[str, object] = {
            "file": self.file,
            "true": self.true,
            "pred": self.pred,
            "seconds": round(self.seconds, 3),
            "frames": self.frames,
        }
        if self.live_count is not None:
            row["live_count"] = self.live_count
        if self.match is not None:
            row.update(missed=self.match.missed, extra=self.match.extra)
        if self.error:
            row["error"] = self.error
        return row


class TimedSignal:
    """Wraps a probability source and adds up the time spent in it (the CNN's forward pass)."""

    def __init__(self, signal: ProbabilitySource) -> None:
        self.signal = signal
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, encoded: EncodedFlow):
        started = time.perf_counter()
        probabilities = self.signal(encoded)
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return probabilities

    @property
    def ms_per_frame(self) -> float:
        return 1000 * self.seconds / max(1, self.calls)


BenchMode = Literal["file", "webcam"]


@dataclass(frozen=True)
class BenchOptions:
    """How a folder is counted: `file` mode counts each clip as a file is counted (the whole clip's
    evidence), `webcam` mode as a browser webcam would deliver it, through the live counter; `farther`
    films every clip as from that many times as far; `still_s` adds that long of the still scene
    before and after each clip; `pause_s` holds the picture that long after each rep but the last."""

    mode: BenchMode = "file"
    flow_method: FlowMethod = "dis"
    farther: float = 1.0
    seed: int = 0  # webcam mode: which draw of the timestamps' jitter
    still_s: float = 0.0
    pause_s: float = 0.0

    def transform(self, pauses_after_frames: Sequence[int] = ()) -> FrameTransform | None:
        """The clip's frames as these options deliver them; with `pause_s`, the picture is held after
        each of `pauses_after_frames`."""
        steps = [pauses_after(self.pause_s, pauses_after_frames)] if self.pause_s > 0.0 else []
        if self.still_s > 0.0:
            steps.append(still_edges(self.still_s))
        if self.farther > 1.0:
            steps.append(farther_camera(self.farther))
        if self.mode == "webcam":
            steps.append(WebcamConditions(seed=self.seed))
        if not steps:
            return None

        def chain(frames: Iterable[Frame]) -> Iterable[Frame]:
            for step in steps:
                frames = step(frames)
            return frames

        return chain


@dataclass
class BenchReport:
    clips: list[ClipScore] = field(default_factory=list)
    wall_seconds: float = 0.0
    signal_ms_per_frame: float = 0.0
    options: BenchOptions = field(default_factory=BenchOptions)

    @property
    def farther(self) -> float:  # the clips were counted as if filmed from this many times as far
        return self.options.farther

    @property
    def mae(self) -> float:
        return sum(abs(c.pred - c.true) / c.true for c in self.clips) / max(1, len(self.clips))

    @property
    def obo(self) -> float:
        return sum(abs(c.pred - c.true) <= 1 for c in self.clips) / max(1, len(self.clips))

    @property
    def live_count(self) -> dict[str, float] | None:
        """Live: MAE and OBO of the count each clip showed as it ended, before its final count (the
        whole set's evidence) — what a visitor saw during the set."""
        shown = [(c.true, c.live_count) for c in self.clips if c.live_count is not None]
        if not shown:
            return None
        return {
            "mae": round(sum(abs(live - true) / true for true, live in shown) / len(shown), 4),
            "obo": round(sum(abs(live - true) <= 1 for true, live in shown) / len(shown), 4),
        }

    @property
    def count_delay_s(self) -> dict[str, Any] | None:
        """How long after a rep's motion ended (as the finished set's whole evidence places its end)
        the live count showed it: median and 90th percentile, over every rep and (`under_way`) over
        the reps after each clip's first count, which waits by design until the motion is seen to
        repeat. Negative: shown a little before that end."""
        delays = [x for c in self.clips for x in c.delays_s]
        if not delays:
            return None
        under_way = [x for c in self.clips for x in c.delays_s[c.first_count_reps :]]
        return {**_spread(delays), **({"under_way": _spread(under_way)} if under_way else {})}

    @property
    def timing(self) -> dict[str, Any] | None:
        """Reps missed and counted where there was none, over the clips whose labels say when each
        rep ends, and how far (seconds) the paired reps' ends are from the true ones."""
        timed = [(c.true, c.match) for c in self.clips if c.match is not None]
        if not timed:
            return None
        errors = [error for _, match in timed for error in match.end_errors_s]
        return {
            "clips": len(timed),
            "true": sum(true for true, _ in timed),
            "missed": sum(match.missed for _, match in timed),
            "extra": sum(match.extra for _, match in timed),
            **({"end_error_s": _spread(errors)} if errors else {}),
        }

    @property
    def fps(self) -> float:
        return sum(c.frames for c in self.clips) / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        timing = self.timing
        return {
            "mode": self.options.mode,
            "clips": [c.as_json() for c in self.clips],
            "mae": round(self.mae, 4),
            "obo": round(self.obo, 4),
            "fps": round(self.fps, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "signal_ms_per_frame": round(self.signal_ms_per_frame, 3),
            "count_delay_s": self.count_delay_s,
            **({"live_count": self.live_count} if self.live_count else {}),
            **({"timing": timing} if timing else {}),
            **({"farther": self.farther} if self.farther > 1.0 else {}),
            **({"still_s": self.options.still_s} if self.options.still_s > 0.0 else {}),
            **({"pause_s": self.options.pause_s} if self.options.pause_s > 0.0 else {}),
            **({"seed": self.options.seed} if self.options.mode == "webcam" else {}),
        }


def _spread(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "median": round(ordered[len(ordered) // 2], 3),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "reps": len(ordered),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def read_labels(folder: Path) -> list[Label]:
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise LabelsError(f"{labels}: no such file (a bench folder needs labels.csv with file,count)")
    with labels.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"file", "count"} <= set(reader.fieldnames):
            raise LabelsError(f"{labels}: needs the columns 'file' and 'count'")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                count = int(row["count"])
            except (TypeError, ValueError):
                raise LabelsError(f"{labels}, line {line}: count {row['count']!r} is not a whole number") from None
            if count <= 0:
                raise LabelsError(f"{labels}, line {line}: count must be positive to score relative error")
            ends = _end_frames(row.get("cycle_end_frames"), labels, line)
            rows.append(Label(row["file"], count, ends, _set_frames(row, labels, line)))
    return rows


def _end_frames(text: str | None, labels: Path, line: int) -> list[int] | None:
    if not text or not text.strip():
        return None
    try:
        return [int(frame) for frame in text.split()]
    except ValueError:
        raise LabelsError(f"{labels}, line {line}: cycle_end_frames must be frame numbers, not {text!r}") from None


def pause_frames(path: Path, label: Label) -> list[int]:
    """The frames a person pausing between reps pauses after: each labelled rep's end but the last,
    or, where labels.csv does not say when reps end, the set (its `start_frame` to `end_frame`, else
    the whole clip by its header's frame count) split into `count` equal reps."""
    if label.end_frames:
        return label.end_frames[:-1]
    first, last = label.set_frames or (0, probe(path).frame_count)
    return [first + round(k * (last - first) / label.count) for k in range(1, label.count)]


def _set_frames(row: dict[str, str], labels: Path, line: int) -> tuple[int, int] | None:
    first, last = (row.get(column) or "" for column in ("start_frame", "end_frame"))
    if not first.strip() or not last.strip():
        return None
    try:
        span = int(first), int(last)
    except ValueError:
        raise LabelsError(f"{labels}, line {line}: start_frame and end_frame must be frame numbers") from None
    if span[1] <= span[0]:
        raise LabelsError(f"{labels}, line {line}: end_frame must come after start_frame")
    return span


def score_clip(folder: Path, label: Label, session: Session, options: BenchOptions) -> ClipScore:
    """Counts one labelled clip as `options` say and scores it; a clip that cannot be read scores 0,
    with its error."""
    started = time.perf_counter()
    path = folder / label.file
    try:
        pauses = pause_frames(path, label) if options.pause_s > 0.0 else []
        result = count_clip(path, session, transform=options.transform(pauses), live=options.mode == "webcam")
    except VideoError as error:
        return ClipScore(label.file, label.count, 0, time.perf_counter() - started, 0, str(error))
    match = (
        None
        if label.end_frames is None
        else match_reps(
            [options.still_s + frame / result.fps + k * options.pause_s for k, frame in enumerate(label.end_frames)],
            [rep.end_s for rep in result.reps],
        )
    )
    live = options.mode == "webcam"
    delays = [rep.counted_s - rep.end_s for rep in result.reps] if live else []
    first = sum(rep.counted_s == result.reps[0].counted_s for rep in result.reps) if live and result.reps else 0
    return ClipScore(
        label.file,
        label.count,
        result.count,
        result.seconds,
        result.frames,
        delays_s=delays,
        first_count_reps=first,
        match=match,
        live_count=result.live_count,
    )


def run_bench(
    folder: Path,
    signal: ProbabilitySource,
    options: BenchOptions = BenchOptions(),
    on_clip: Callable[[ClipScore], None] | None = None,
) -> BenchReport:
    """Counts every clip of folder/labels.csv as `options` say, in this process."""
    labels = read_labels(folder)
    timed = TimedSignal(signal)
    session = Session(timed, flow_method=options.flow_method)
    report = BenchReport(options=options)
    started = time.perf_counter()
    for label in labels:
        score = score_clip(folder, label, session, options)
        report.clips.append(score)
        if on_clip is not None:
            on_clip(score)
    report.wall_seconds = time.perf_counter() - started
    report.signal_ms_per_frame = timed.ms_per_frame
    return report
