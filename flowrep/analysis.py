"""Per-rep analysis: more than a number — each rep's times and speed, and the set's speed loss.

Owns what is said about the reps of one set (an upload, a webcam set, a workout's work step), from
the counter's reps and one number per frame that the session keeps: the mean optical-flow speed
over the picture (frame diagonals per second), never the frames themselves.

- **Down and up**: the time from the rep's start to its turn (`Rep.turn_s`, the bottom of a squat:
  the eccentric part) and from the turn to its end (the concentric part). They add up to the
  rep's duration. Which half is "down" is the counter's: the first half of the rep.
- **Flow speed**: the mean of the per-frame flow speed over the frames of the rep (after its start,
  up to its end). It is the speed of the motion *in the picture*, so it depends on the distance to
  the camera and the view: it is not metres per second, nor a barbell's velocity.
- **Relative speed**: a rep's flow speed over the typical (median) flow speed of the set's first
  reps (the first three; the first half of a set of fewer than six reps). 1.0 = as fast as the set
  began.
- **Speed loss**: 1 − (median flow speed of the last reps / median flow speed of the first reps),
  with as many last reps as first ones: 0.2 means the set ended 20 % slower than it began
  (fatigue, as velocity-based-training devices report it, here relative and without a sensor);
  negative means it sped up. None for a set of fewer than four reps, too short to compare its
  start and its end.

Medians, not means: in real clips the first rep often takes in getting into position and the last
one the stop (a rep at a fifth of the set's speed), and one such rep must not make the set's figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .counter import Rep

#: The reps a set's speed is compared with: its first ones (fewer in a short set, see `reference_reps`).
REFERENCE_REPS = 3
#: Fewest reps for a speed loss: two at the start and two at the end.
MIN_REPS_FOR_SPEED_LOSS = 4


@dataclass(frozen=True)
class RepAnalysis:
    number: int
    duration_s: float
    down_s: float  # start → turn (eccentric)
    up_s: float  # turn → end (concentric)
    flow_speed: float | None  # mean flow speed over the rep, frame diagonals per second; None: no frames
    relative_speed: float | None  # flow_speed / the set's first reps' median; None when unknown

    def as_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "duration_s": round(self.duration_s, 3),
            "down_s": round(self.down_s, 3),
            "up_s": round(self.up_s, 3),
            "flow_speed": _rounded(self.flow_speed, 4),
            "relative_speed": _rounded(self.relative_speed, 3),
        }


@dataclass(frozen=True)
class SetAnalysis:
    reps: tuple[RepAnalysis, ...]
    speed_loss: float | None  # see the module's docstring; None for a set too short to say

    def as_json(self) -> dict[str, object]:
        return {"rep_analysis": [r.as_json() for r in self.reps], "speed_loss": _rounded(self.speed_loss, 3)}


def reference_reps(count: int) -> int:
    """How many first reps a set of `count` reps is compared with (and how many last reps its
    speed loss looks at): REFERENCE_REPS, or half the set when that would overlap its end."""
    return max(1, min(REFERENCE_REPS, count // 2))


def rep_flow_speeds(
    reps: Sequence[Rep], times_s: Sequence[float] | np.ndarray, speeds: Sequence[float] | np.ndarray
) -> list[float | None]:
    """Each rep's mean per-frame speed over the frames in (start, end]; None for a rep with no
    frame (times in increasing order, as a stream gives them)."""
    times, values = np.asarray(times_s, float), np.asarray(speeds, float)
    starts = np.searchsorted(times, [r.start_s for r in reps], side="right")
    ends = np.searchsorted(times, [r.end_s for r in reps], side="right")
    sums = np.concatenate([[0.0], np.cumsum(values)])
    return [float((sums[hi] - sums[lo]) / (hi - lo)) if hi > lo else None for lo, hi in zip(starts, ends)]


def analyse_set(
    reps: Sequence[Rep], times_s: Sequence[float] | np.ndarray = (), speeds: Sequence[float] | np.ndarray = ()
) -> SetAnalysis:
    """The analysis of a set's reps, given the per-frame flow speed and its times (without them, the
    reps' times only, with no speeds)."""
    flow_speeds = rep_flow_speeds(reps, times_s, speeds)
    first = reference_reps(len(reps))
    reference = _median(flow_speeds[:first])
    relative = [None if s is None or not reference else s / reference for s in flow_speeds]
    speed_loss = None
    if len(reps) >= MIN_REPS_FOR_SPEED_LOSS and reference and (last := _median(flow_speeds[-first:])) is not None:
        speed_loss = 1.0 - last / reference
    analysed = tuple(
        RepAnalysis(r.number, r.duration_s, r.turn_s - r.start_s, r.end_s - r.turn_s, s, rel)
        for r, s, rel in zip(reps, flow_speeds, relative)
    )
    return SetAnalysis(analysed, speed_loss)


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.median(known)) if known else None


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
