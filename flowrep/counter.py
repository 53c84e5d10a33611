"""Turns repetition evidence into reps: how many, when each began and ended, and when each was counted.

Owns the counting rule, the same for a file and for a live stream. While the motion repeats (see
flowrep.periodicity), a phase turns at one per period: it is the number of periods of repetition so
far, and a rep ends each time it passes a whole number. Motion that does not repeat (getting into
position, walking in, picking up a weight) turns nothing.

- **A file** is counted on its whole evidence, each sample judged on windows centred on it: the
  count is the phase at the end, rounded, and the reps are spread over the phase so that their
  number is the count. It is rounded up where the rest of the last cycle was a pause in the cycles
  before (`pause_share`): a person who pauses after each rep does not after the last one. Where the
  picture is still (for `still_s`) at or near the edge between two reps, the rep before ends as it
  went still and the next begins as it moves again: a rep is its motion, the pause is no part of it.
- **A live stream** is counted on the same evidence as if the stream ended now, re-read every
  `refresh_s`: a rep is counted as the phase passes its end (a little before, by `lead`), and when
  the picture goes still the phase is rounded, as a file's is. While the set goes on, the count
  never goes back.
- **When a live set ends** (`finish`), it is counted as a file is, on its whole evidence: the reps
  that evidence does not bear out are taken back (a count read from windows ending "now" can find a
  period that windows centred on each moment do not), the ones it adds are counted, and the rep
  times are the file's; each rep keeps the time the live count first showed its number.
- **A rest ends a set**: once the picture has been still for `rest_s`, the motion before it is judged
  as a clip of its own (its windows kept inside it, as a clip's are at its ends) and its phase is
  rounded; the evidence starts afresh when the picture moves again. Without that, the windows of a
  slow set's long period reach across the rest into the stillness or the next set, and short
  periods (a re-timed clip's judder, the next exercise's) win at the set's edges. A live count goes
  on from what it showed.

The first rep of a set cannot be known to repeat until the motion has gone on for about two
periods (a lag is judged on at least one period of pairs): when the repetition is found, the phase
already covers the reps since the motion began, so a live count goes from 0 to 2 at the end of the
second rep and rises with each rep after that.

The classifier's reading s = P(down) − P(up) adds the turn of each rep: the time, between its start
and end, at which the integral of s is farthest from where the rep began (the bottom of a squat).
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from .periodicity import ClipEvidence, Evidence, EvidenceSettings, motion_features


@dataclass(frozen=True)
class Rep:
    number: int
    start_s: float
    turn_s: float
    end_s: float
    counted_s: float  # when it was counted: a file's at its end; a live set's when the live count showed it

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class CounterSettings:
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    refresh_s: float = 0.2  # a live count re-reads the evidence this often
    lead: float = 0.15  # a live rep counts when the phase is this close (in periods) to its end
    still_s: float = 0.5  # this long still: a live set has ended for now; reps either side of it are apart
    rest_s: float = 3.0  # a picture this long still ends a set (longer than a slow squat's hold at the bottom)
    pause_share: float = 0.8  # a set's last cycle ends at a pause where the cycles before were this still there
    first_strength: float = 0.5  # a live set's first reps count once the repetition is this clear (median)
    reading_memory_s: float = 60.0  # the classifier's reading kept for the reps' turns


class _Phase:
    """The phase over a run of evidence, and the times at which it passes given values."""

    def __init__(self) -> None:
        self.value = 0.0
        self.began_s: float | None = None  # first repeating sample

    def advance(self, evidence: Evidence, frame_s: float) -> tuple[float, float]:
        """Adds one sample; returns the phase before and after it."""
        before = self.value
        if evidence.repeating and evidence.period_s:
            if self.began_s is None:
                self.began_s = evidence.time_s - frame_s
            self.value += frame_s / evidence.period_s
        return before, self.value


class RepCounter:
    """Feed every frame's probabilities and motion features in time order; `finish` at the end.

    With `live`, reps are counted as they happen (`update` returns them); otherwise `update` returns
    none and `finish` gives the whole stream's reps. `count` is the reps counted so far."""

    def __init__(self, settings: CounterSettings | None = None, live: bool = True) -> None:
        self.settings = settings or CounterSettings()
        self.live = live
        self.count = 0
        self.reps: list[Rep] = []
        self._finished_sets: list[Rep] = []  # the reps of the sets that a rest ended, on their whole evidence
        self._begin_set()
        self._resting = False  # a rest ended the last set, and the picture has not moved since
        self._reading: deque[tuple[float, float]] = deque()  # (t, integral of s)
        self._x = 0.0
        self._last_t: float | None = None
        self._refreshed_s = -math.inf
        self._still_since: float | None = None

    def update(
        self, t: float, probabilities: np.ndarray, features: np.ndarray | None = None, repeated: bool = False
    ) -> list[Rep]:
        """Feeds one frame's (down, still, up) probabilities and its motion features (the coarse flow
        field; None where the frame has no flow). `repeated` says the frame only repeats the one
        before and carries no new features. Returns the reps counted at this frame (live only)."""
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        self._x += float(probabilities[0] - probabilities[2]) * dt
        self._reading.append((t, self._x))
        while self._reading and t - self._reading[0][0] > self.settings.reading_memory_s:
            self._reading.popleft()
        still_frame = bool(probabilities[1] > 0.5)
        self._still_since = (t if self._still_since is None else self._still_since) if still_frame else None
        fresh = None if repeated else features  # a frame with features of its own
        if fresh is not None and not still_frame:
            self._resting = False  # the picture moves: after a rest, the next set's evidence starts here
        if not self._resting:
            if fresh is not None:
                self._evidence.update(t, motion_features(fresh), float(probabilities[1]))
                self._set_fed = True
            else:
                self._evidence.tick(t)
            if self._still_since is not None and t - self._still_since >= self.settings.rest_s:
                self._end_set(t)
        if not self.live or t - self._refreshed_s < self.settings.refresh_s:
            return []
        self._refreshed_s = t
        still = self._still_since is not None and t - self._still_since >= self.settings.still_s
        return self._count_to(*self._phase_now(keep_rise=still), rounded=still, now=t)

    def finish(self) -> list[Rep]:
        """The stream has ended: its reps are its sets' whole evidence's (a file's count, and a live
        set's final count). Returns the reps not counted before (all of a file's)."""
        now = self._last_t if self._last_t is not None else 0.0
        if not self._resting:
            self._end_set(now)
        shown = [rep.counted_s for rep in self.reps]
        self.reps, self.count = list(self._finished_sets), len(self._finished_sets)
        if not self.live:
            return list(self.reps)
        # A live set's rep was counted when the live count first showed its number, or now.
        self.reps = [replace(rep, counted_s=shown[i] if i < len(shown) else now) for i, rep in enumerate(self.reps)]
        return self.reps[len(shown) :]

    def _begin_set(self) -> None:
        """Fresh evidence for the next set; a live count goes on from what it shows."""
        self._evidence = ClipEvidence(self.settings.evidence)
        self._set_fed = False  # whether the set's evidence has had a frame with features
        self._set_base = self.count  # the live count when the set began
        self._final_phase = _Phase()  # over the set's evidence judged for good
        self._final_track = _Track()  # its rise, for the reps' ends when the set ends
        self._final_strengths: list[float] = []  # of the evidence judged for good that repeats (first reps)
        self._crossings: list[float] = []  # times the final phase passed each whole number
        self._clear_before = False  # the last reading found the set's repetition clear

    def _end_set(self, now: float) -> None:
        """The set ends (a rest, or the stream's end): its reps are those of its whole evidence."""
        if self._set_fed:
            self._evidence.finish()
            self._finished_sets += self._set_reps(now)
        self._begin_set()
        self._resting = True

    def _follow_final(self) -> _Phase:
        """Brings the phase over the evidence judged for good up to date."""
        fresh = self._evidence.take()
        self._crossings += _advance(self._final_phase, fresh, self._evidence.frame_s or 0.0, self._final_track)
        if self.count == self._set_base:  # only a set's first reps wait on them
            self._final_strengths += [e.strength for e in fresh if e.repeating]
        return self._final_phase

    def _phase_now(self, keep_rise: bool) -> tuple[_Phase, list[float], _Track | None]:
        """The phase as if the stream ended now (the evidence judged for good, then the rest), the
        times it passed each whole number, and, with `keep_rise`, the rise of the rest (the
        provisional evidence).
        Until the set's first rep is counted, the phase stays at 0 unless the repetition is clear
        (`first_strength`) at this reading and at the one before, or the evidence judged for good
        (what the set's final count is) has found it: a few frames of weak evidence at the start
        of a stream, or one reading's spike of it, must not count two reps that no later evidence
        would confirm."""
        if not self._set_fed:  # resting, or the set has no motion yet
            return _Phase(), [], None
        final = self._follow_final()
        phase = _Phase()
        phase.value, phase.began_s = final.value, final.began_s
        provisional = self._evidence.provisional()
        track = _Track() if keep_rise else None
        crossings = _advance(phase, provisional, self._evidence.frame_s or 0.0, track)
        if self.count == self._set_base:
            strengths = self._final_strengths + [e.strength for e in provisional if e.repeating]
            clear = bool(strengths) and float(np.median(strengths)) >= self.settings.first_strength
            confirmed = (clear and self._clear_before) or final.began_s is not None
            self._clear_before = clear
            if not confirmed:
                return _Phase(), [], track
        return phase, self._crossings + crossings, track

    def _count_to(
        self, phase: _Phase, crossings: list[float], provisional: _Track | None, rounded: bool, now: float
    ) -> list[Rep]:
        """Live: counts the reps the phase has passed (or, rounded, is nearest to, on the rise of the
        evidence judged for good and of the `provisional` rest); each ends where the phase passed its
        number, or now."""
        if rounded:
            in_set = self._final_track.whole_cycles(phase.value, self.settings.pause_share, provisional)
        else:
            in_set = math.floor(phase.value + self.settings.lead)
        new = []
        while self.count < self._set_base + in_set:
            began = phase.began_s if phase.began_s is not None else now
            start = self.reps[-1].end_s if self.count > self._set_base else began
            index = self.count - self._set_base
            end = min(now, max(start, crossings[index] if index < len(crossings) else now))
            self.count += 1
            self.reps.append(Rep(self.count, start, self._turn(start, end), end, now))
            new.append(self.reps[-1])
        return new

    def _set_reps(self, now: float) -> list[Rep]:
        """The set's reps on its whole evidence: its phase in whole reps (`_Track.whole_cycles`), split
        into that many equal parts, each ending where the phase passes it or where the picture went
        still around that (`_motion_spans`) and counted then, numbered after the sets before it."""
        phase = self._follow_final()
        total = self._final_track.whole_cycles(phase.value, self.settings.pause_share)
        if total <= 0:
            return []
        scale = phase.value / total
        began = phase.began_s if phase.began_s is not None else now
        edges = [began] + [now if passed is None else passed for passed in self._final_track.passings(total, scale)]
        spans = _motion_spans(edges, self._final_track.still_spans(self.settings.still_s))
        first = len(self._finished_sets) + 1
        return [
            Rep(number, start, self._turn(start, end), end, end) for number, (start, end) in enumerate(spans, first)
        ]

    def _turn(self, start_s: float, end_s: float) -> float:
        """The time in the rep at which the integrated reading is farthest from where the rep began."""
        inside = [(t, x) for t, x in self._reading if start_s <= t <= end_s]
        if len(inside) < 2:
            return 0.5 * (start_s + end_s)
        origin = inside[0][1]
        return max(inside, key=lambda point: abs(point[1] - origin))[0]


class _Track:
    """A phase's rise, kept small: one row (start time, end time, phase before, phase after) for each
    sample that moved it, and whether the picture was still there. A sample that does not repeat adds
    nothing, so a stream costs memory only while it repeats (33 bytes a sample, where keeping each
    sample's `Evidence` cost about 200 for every sample: an hour of webcam, 7 MB)."""

    def __init__(self) -> None:
        self._rows = array("d")  # t0, t1, before, after; row after row
        self._still = array("b")  # one flag a row

    def add(self, t0: float, t1: float, before: float, after: float, still: bool) -> None:
        self._rows.extend((t0, t1, before, after))
        self._still.append(still)

    def whole_cycles(self, value: float, pause_share: float, then: _Track | None = None) -> int:
        """The phase `value` at a set's end, rounded to the reps it holds: to the nearest whole number,
        or up where the rest of its last cycle was a pause in the cycles before (the picture still
        over more than `pause_share` of that part of them, weighted by phase; with `then`, the rise
        that followed this track's). A person who pauses after each rep does not after the last one,
        whose cycle then ends short by the pause."""
        whole = math.floor(value)
        rest = value - whole
        if rest >= 0.5 or whole < 1:
            return round(value)
        paused, turned = self._in_rest(whole, rest)
        if then is not None:
            paused_then, turned_then = then._in_rest(whole, rest)
            paused, turned = paused + paused_then, turned + turned_then
        return whole + 1 if paused > pause_share * turned > 0.0 else whole

    def _in_rest(self, whole: int, rest: float) -> tuple[float, float]:
        """How far the phase turned while the picture was still, and in all, over the part of each
        cycle before `whole` past `rest` of it."""
        rows = np.frombuffer(self._rows, dtype=np.float64).reshape(-1, 4)
        before, after = rows[:, 2], rows[:, 3]
        in_rest = (after <= whole) & (before - np.floor(before) >= rest)
        turned = after - before
        still = np.frombuffer(self._still, dtype=np.int8).astype(bool)
        return float(turned[in_rest & still].sum()), float(turned[in_rest].sum())

    def still_spans(self, min_s: float) -> list[tuple[float, float]]:
        """The stretches, at least `min_s` long, over which the picture was still on every sample."""
        spans: list[tuple[float, float]] = []
        begun = end = 0.0
        running = False
        for (t0, t1, _, _), still in zip(np.frombuffer(self._rows, dtype=np.float64).reshape(-1, 4), self._still):
            if running and still and t0 - end <= 0.5 * (t1 - t0):  # the next sample, still too
                end = t1
                continue
            if running:
                spans.append((begun, end))
            running, begun, end = bool(still), float(t0), float(t1)
        if running:
            spans.append((begun, end))
        return [(a, b) for a, b in spans if b - a >= min_s]

    def passings(self, count: int, step: float) -> list[float | None]:
        """When the phase passed step, 2·step, … count·step (None: it has not)."""
        afters = self._rows[3::4]
        times: list[float | None] = []
        value = step
        for _ in range(count):
            i = bisect.bisect_left(afters, value - 1e-9)
            if i == len(afters):
                times.append(None)
            else:
                t0, t1, before, after = self._rows[4 * i : 4 * i + 4]
                times.append(_crossing(t0, t1, before, after, value))
            value += step
        return times


def _advance(phase: _Phase, evidence: list[Evidence], frame_s: float, track: _Track | None = None) -> list[float]:
    """Advances a phase over evidence (recording its rise on `track`, where given); returns the times
    it passed each whole number."""
    crossings = []
    for sample in evidence:
        before, after = phase.advance(sample, frame_s)
        if track is not None and after > before:
            track.add(sample.time_s - frame_s, sample.time_s, before, after, not sample.moving)
        for whole in range(math.floor(before) + 1, math.floor(after) + 1):
            crossings.append(_crossing(sample.time_s - frame_s, sample.time_s, before, after, whole))
    return crossings


def _motion_spans(edges: list[float], stills: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Each cycle between successive `edges` as a rep's start and end. Where the picture was still at
    an edge or within a quarter of a cycle of it (a pause between reps, the stillness before or after
    the set), the rep before the edge ends as the stillness begins and the one after it begins as it
    ends; elsewhere reps meet at the edge."""
    halves = [0.5 * (b - a) for a, b in zip(edges, edges[1:])]
    near: dict[int, tuple[float, float]] = {}  # edge → the still stretch nearest to it
    for still in stills:
        after = bisect.bisect_left(edges, still[0])  # the first edge at or after the stretch begins
        k = min((i for i in (after - 1, after) if 0 <= i < len(edges)), key=lambda i: _distance(edges[i], still))
        distance = _distance(edges[k], still)
        reach = 0.5 * min(halves[max(0, k - 1)], halves[min(k, len(halves) - 1)])
        if distance <= reach and distance < _distance(edges[k], near.get(k, (math.inf, math.inf))):
            near[k] = still
    return _moved_edges(edges, near)


def _moved_edges(edges: list[float], stills_at: dict[int, tuple[float, float]]) -> list[tuple[float, float]]:
    """The reps between successive `edges`, each edge k with a still stretch in `stills_at` moved to
    it: the rep before ends as it begins, the one after begins as it ends."""
    starts, ends = edges[:-1], edges[1:]
    for k, (still_from, still_to) in stills_at.items():
        if k > 0:
            ends[k - 1] = still_from
        if k < len(starts):
            starts[k] = still_to
    spans = list(zip(starts, ends))
    return [(start, end) if start < end else (edges[i], edges[i + 1]) for i, (start, end) in enumerate(spans)]


def _distance(t: float, span: tuple[float, float]) -> float:
    return max(0.0, span[0] - t, t - span[1])


def _crossing(t0: float, t1: float, before: float, after: float, value: float) -> float:
    """When a phase going from `before` at t0 to `after` at t1 passed `value` (linearly)."""
    if after <= before:
        return float(t1)
    return float(t0 + (t1 - t0) * min(1.0, max(0.0, (value - before) / (after - before))))
