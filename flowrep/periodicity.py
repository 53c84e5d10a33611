"""Repetition evidence: is the motion repeating, and at what period.

Owns the judgement of each moment of a stream from the self-similarity (flowrep.similarity) of small
per-frame motion features: the flow (measured both ways, flowrep.flow) pooled to a coarse grid, less
its mean over the grid (a camera that pans or sways moves every cell alike; a person does not), put
on a regular grid of samples.
For each lag, the features are correlated with themselves that many samples earlier over a window of
sample pairs, mean removed and normalised by the energy at both ends: the mean along one diagonal of
a self-similarity matrix, as in RepNet. A lag's window is at least the lag itself, so every lag is
judged on at least one whole period of pairs.

The period is the shortest clear peak of that profile (after a dip below zero) whose correlation is
within `near` of the best peak's, chosen on the profiles pooled over the last few seconds (so that a
period and its multiples are told apart on more than one window) and then refined on the frame's own
window; the strength is the correlation at the period. A sample repeats when the strength reaches
`min_strength` and the classifier finds the picture moving somewhere in the period before it and in
the period after it (`motion_reach`): a pause inside a set, even one longer than the rep's motion,
is part of its reps, while the stillness after a set's last rep (which still correlates with the set
for a window's length) is not.

One implementation, two forms, both streaming with bounded memory:
- `LiveEvidence`: windows that end now, for a webcam (it looks back, never ahead).
- `ClipEvidence`: each sample judged on windows centred on it, read through a delay line of a few
  seconds, for files; it keeps only a few numbers per sample (its `Evidence`), never frames.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from .similarity import Peaks, Pool, SelfSimilarity, choose_period


@dataclass(frozen=True)
class EvidenceSettings:
    """The few settings of repetition evidence (see the module docstring and weights/README.md for
    how they were chosen)."""

    window_s: float = 0.5  # shortest window of sample pairs compared at a lag
    context_s: float = 5.0  # profiles pooled over this long to choose between a period and its multiples
    near: float = 0.2  # a shorter period wins while its correlation is within this of the best one
    min_strength: float = 0.2  # correlation at the period from which the motion repeats
    motion_reach: float = 1.0  # a repeating sample has motion within this many periods before and after it
    shortest_period_s: float = 0.1
    longest_period_s: float = 8.0


#: The weight, in the pooled profile, of a lag whose window had to be moved off its sample.
_MOVED_WINDOW_WEIGHT = 0.1

#: The sampler's frame interval is the mean of the first intervals, leaving out those over this many
#: times their mean (a frame lost). Not their median: a webcam that reads a 15 frames/s camera at 10
#: ticks a second delivers frames one and two camera frames apart in turn.
_GAP = 1.5

#: A sample whose P(still) is below this moves.
_MOVING_BELOW = 0.5


def motion_features(coarse_field: np.ndarray) -> np.ndarray:
    """A frame's features: its coarse flow field (rows × columns × (dx, dy)) less the field's mean."""
    cells = np.asarray(coarse_field, dtype=np.float64).reshape(-1, 2)
    return (cells - cells.mean(axis=0)).ravel()


@dataclass(frozen=True)
class Evidence:
    """One sample's repetition evidence."""

    time_s: float
    period_s: float | None  # None: no clear period
    strength: float  # correlation at the period (0 when none)
    repeating: bool
    moving: bool = True  # the classifier found the picture moving at this sample


class _Sampler:
    """Puts a stream's frames on a regular grid of samples: the frame interval is the mean of the
    first few (see `_GAP`), counting the frames that only repeat the one before (`tick`), and a frame that comes
    after a gap (repeated frames skipped, a webcam frame dropped) fills the samples it spans with
    values between its own and the last frame's. (Timing only the frames with features made a still
    lead-in, whose frames all repeat, set the grid at a third of the frame rate.)"""

    WARM_UP = 8

    def __init__(self) -> None:
        self.frame_s: float | None = None
        self._waiting: list[tuple[float, np.ndarray, float]] = []
        self._times: deque[float] = deque(maxlen=4 * self.WARM_UP)  # repeated frames' times until then
        self._t0 = 0.0
        self._next = 0
        self._last: tuple[float, np.ndarray] | None = None

    def tick(self, time_s: float) -> None:
        """A frame without features of its own (it repeats the one before): timed, not sampled."""
        if self.frame_s is None:
            self._times.append(time_s)

    def _set_interval(self) -> None:
        intervals = np.diff(sorted([*self._times, *(t for t, _, _ in self._waiting)]))
        typical = intervals[intervals <= _GAP * np.mean(intervals)]  # a frame lost is no interval
        self.frame_s = max(1e-3, float(np.mean(typical)))
        self._t0 = self._waiting[0][0]

    def push(self, time_s: float, feature: np.ndarray, still: float) -> list[tuple[float, np.ndarray, float]]:
        if self.frame_s is None:
            self._waiting.append((time_s, feature, still))
            if len(self._waiting) < self.WARM_UP:
                return []
            self._set_interval()
            waiting, self._waiting = self._waiting, []
            return [s for item in waiting for s in self._fill(*item)]
        return self._fill(time_s, feature, still)

    def flush(self) -> list[tuple[float, np.ndarray, float]]:
        """A stream shorter than the warm-up: its frames as they came (interval from their times)."""
        if self.frame_s is not None or len(self._waiting) < 3:
            return []
        self._set_interval()
        waiting, self._waiting = self._waiting, []
        return [s for item in waiting for s in self._fill(*item)]

    def _fill(self, time_s: float, feature: np.ndarray, still: float) -> list[tuple[float, np.ndarray, float]]:
        assert self.frame_s is not None
        last = round((time_s - self._t0) / self.frame_s)
        out = []
        previous = self._last
        while self._next <= last:
            sample_t = self._t0 + self._next * self.frame_s
            if previous is not None and time_s > previous[0]:
                share = min(1.0, max(0.0, (sample_t - previous[0]) / (time_s - previous[0])))
                value = previous[1] + share * (feature - previous[1])
            else:
                value = feature
            out.append((sample_t, value, still))
            self._next += 1
        self._last = (time_s, feature)
        return out


class _Evidence:
    """What both forms share: the sampler, the self-similarity, and the stillness of recent samples."""

    def __init__(self, settings: EvidenceSettings | None = None) -> None:
        self.settings = settings or EvidenceSettings()
        self._sampler = _Sampler()
        self._similarity: SelfSimilarity | None = None
        self._moved: deque[int] = deque([0])  # cumulative count of moving samples, from `_first_moved`
        self._first_moved = 0
        self._previous_lag: float | None = None

    @property
    def frame_s(self) -> float | None:
        return self._sampler.frame_s

    def tick(self, time_s: float) -> None:
        """A frame that only repeats the one before: it times the stream, and adds no sample."""
        self._sampler.tick(time_s)

    def _samples(self, time_s: float, feature: np.ndarray, still: float, flush: bool = False):
        fresh = self._sampler.flush() if flush else self._sampler.push(time_s, feature, still)
        if fresh and self._similarity is None:
            assert self.frame_s is not None
            self._similarity = SelfSimilarity(
                len(fresh[0][1]), self.frame_s, self.settings.window_s, self.settings.longest_period_s
            )
        for sample_t, sample, sample_still in fresh:
            assert self._similarity is not None
            self._keep_motion(sample_still)
            yield self._similarity.samples, sample_t, self._similarity.update(sample)

    def _keep_motion(self, still: float) -> None:
        assert self._similarity is not None
        self._moved.append(self._moved[-1] + (still < _MOVING_BELOW))
        while len(self._moved) > 3 * self._similarity.max_lag + 2:
            self._moved.popleft()
            self._first_moved += 1

    def _moved_within(self, first: int, last: int) -> bool:
        """Whether the classifier found the picture moving in any of samples first … last (as far as
        they have been seen)."""
        first = max(first, self._first_moved)
        last = min(last, self._first_moved + len(self._moved) - 2)
        if last < first:
            return False
        return self._moved[last - self._first_moved + 1] > self._moved[first - self._first_moved]

    def _shortest_lag(self) -> int:
        assert self.frame_s is not None
        return max(1, math.ceil(self.settings.shortest_period_s / self.frame_s))

    def _judge(
        self, sample: int, time_s: float, peaks: tuple[list[int], list[float]], local: np.ndarray, centred: bool
    ) -> Evidence:
        """The evidence of one sample, from its pooled profile's peaks, its own profile and the motion
        around it (after it only where `centred`: a live sample has no after yet)."""
        assert self.frame_s is not None
        found = choose_period(peaks, local, self._shortest_lag(), self.settings.near, self._previous_lag)
        moving_here = self._moved_within(sample, sample)
        if found is None:
            self._previous_lag = None
            return Evidence(time_s, None, 0.0, False, moving_here)
        lag, strength = found
        reach = max(1, round(self.settings.motion_reach * lag))
        moved_around = self._moved_within(sample - reach, sample) and (
            not centred or self._moved_within(sample, sample + reach)
        )
        repeating = strength >= self.settings.min_strength and moved_around
        self._previous_lag = lag if repeating else None
        return Evidence(time_s, lag * self.frame_s, strength, repeating, moving_here)

    def _judge_on(self, pool: Pool, sample: int, time_s: float, local: np.ndarray, centred: bool) -> Evidence:
        """The evidence of one sample whose context is the pool as it is now."""
        peaks = Peaks(pool.mean()[None], self._shortest_lag()).row(0)
        return self._judge(sample, time_s, peaks, local, centred)


class LiveEvidence(_Evidence):
    """Repetition evidence on windows that end now: feed every frame, get the newest samples' evidence."""

    def __init__(self, settings: EvidenceSettings | None = None) -> None:
        super().__init__(settings)
        self._pool: Pool | None = None

    def update(self, time_s: float, feature: np.ndarray, still: float) -> list[Evidence]:
        out = []
        for sample, sample_t, profile in self._samples(time_s, feature, still):
            if self._pool is None:
                assert self.frame_s is not None
                self._pool = Pool(max(1, round(self.settings.context_s / self.frame_s)), len(profile))
            self._pool.push(profile)
            out.append(self._judge_on(self._pool, sample, sample_t, profile, centred=False))
        return out


class ClipEvidence(_Evidence):
    """Repetition evidence with windows centred on each sample, for a whole clip: feed every frame,
    then `finish`, which returns one `Evidence` per sample, in order (those not handed over before by
    `take`, which a long stream's reader calls as it goes, so that nothing of it piles up here).

    A lag k's window for sample t is the one of `windows[k]` pairs centred on t, moved later where the
    stream has not yet seen k + window samples before it, and earlier at the stream's end. Trailing
    profiles wait in a ring until every lag's window for the oldest waiting sample has been seen;
    its centred profile then waits in a second ring until the context after it is pooled. At the end
    (`finish`), or to see the stream as if it ended now (`provisional`, a live count's re-read), the
    samples still waiting are judged together (`_rest`): their contexts pooled in one pass, their
    peaks found in one array, only the choice that follows the period before taken one by one."""

    def __init__(self, settings: EvidenceSettings | None = None) -> None:
        super().__init__(settings)
        self.evidence: list[Evidence] = []
        self._rows: np.ndarray | None = None  # trailing profiles, a ring indexed by sample number
        self._seen: list[float] = []  # times of the samples not yet centred
        self._received = 0  # trailing profiles received
        self._centred_count = 0  # samples whose centred profile is made
        self._waiting: deque[tuple[int, float, np.ndarray]] = deque()  # centred, waiting for context
        self._pool: Pool | None = None

    def update(self, time_s: float, feature: np.ndarray, still: float) -> None:
        for _, sample_t, profile in self._samples(time_s, feature, still):
            self._receive(sample_t, profile)
            self._centre_ready()

    def finish(self) -> list[Evidence]:
        for _, sample_t, profile in self._samples(0.0, np.zeros(0), 1.0, flush=True):
            self._receive(sample_t, profile)
        self.evidence += self._rest()
        self._waiting.clear()
        self._centred_count = self._received
        return self.evidence

    def take(self) -> list[Evidence]:
        """The evidence judged for good since the last `take`, in order, handed over and kept no more."""
        taken, self.evidence = self.evidence, []
        return taken

    def provisional(self) -> list[Evidence]:
        """The evidence of the samples after `evidence` as it would be if the stream ended now (their
        windows cut at the newest sample); the stream goes on unchanged."""
        if self.frame_s is None:  # its first frames, not yet on the grid of samples: as if flushed now
            final, self.evidence = self.evidence, []
            try:
                return copy.deepcopy(self).finish()
            finally:
                self.evidence = final
        previous = self._previous_lag
        try:
            return self._rest()
        finally:
            self._previous_lag = previous

    def _receive(self, sample_t: float, profile: np.ndarray) -> None:
        similarity = self._similarity
        assert similarity is not None and self.frame_s is not None
        if self._rows is None:
            size = 2 * similarity.max_lag + int(similarity.windows.max()) + 2
            self._rows = np.empty((size, len(profile)))
            half = max(1, round(0.5 * self.settings.context_s / self.frame_s))
            self._pool, self._half = Pool(2 * half + 1, len(profile)), half
        self._rows[self._received % len(self._rows)] = profile
        self._seen.append(sample_t)
        self._received += 1

    def _centre_ready(self) -> None:
        similarity = self._similarity
        if similarity is None or self._rows is None:
            return
        half_spans, spans = self._spans()
        last = self._received - 1
        while self._centred_count <= last:
            sample = self._centred_count
            centred_ends = sample + half_spans
            wanted = np.maximum(centred_ends, spans)
            if wanted.max() > last:
                return
            centred = self._rows[wanted % len(self._rows), similarity.lags]
            sample_t = self._seen[sample - (self._received - len(self._seen))]
            self._centred_count += 1
            self._waiting.append((sample, sample_t, centred))
            assert self._pool is not None
            # A lag whose window had to be moved off the sample (near the stream's ends) speaks less for
            # its context: at a set's start the long lags' windows reach further into the set.
            self._pool.push(centred, np.where(wanted == centred_ends, 1.0, _MOVED_WINDOW_WEIGHT))
            if len(self._waiting) > self._half:
                sample, sample_t, profile = self._waiting.popleft()
                self.evidence.append(self._judge_on(self._pool, sample, sample_t, profile, centred=True))
            del self._seen[: max(0, len(self._seen) - (self._received - self._centred_count))]

    def _spans(self) -> tuple[np.ndarray, np.ndarray]:
        """Lag k's window centred on sample s ends at s + half_spans[k]; no window ends before spans[k]."""
        assert self._similarity is not None
        lags, windows = self._similarity.lags, self._similarity.windows
        return (lags + windows) // 2, lags + windows - 1

    def _rest(self) -> list[Evidence]:
        """The evidence of every sample not yet judged, as if the stream ended at the newest sample: the
        windows that reach past it cut there (moved earlier), the context after it empty. The samples
        are centred and their contexts pooled together, then judged in order; nothing changes but the
        previous period."""
        similarity, pool = self._similarity, self._pool
        if similarity is None or self._rows is None or pool is None:
            return []
        half_spans, spans = self._spans()
        last = self._received - 1
        samples = np.arange(self._centred_count, last + 1)
        centred_ends = samples[:, None] + half_spans
        rows = np.minimum(np.maximum(centred_ends, spans), last)
        profiles = self._rows[rows % len(self._rows), similarity.lags]
        weights = np.where(rows == centred_ends, 1.0, _MOVED_WINDOW_WEIGHT)
        times = self._seen[self._centred_count - (self._received - len(self._seen)) :]
        queue = [*self._waiting, *zip(samples.tolist(), times, profiles)]
        # As the stream goes: each sample's centred profile is pooled, and once more than `_half` wait,
        # the oldest is judged; at the end each one left is judged as an empty profile is pooled.
        closing = len(queue) - max(0, len(samples) - self._first_due())
        pushes = np.vstack([profiles, np.full((closing, len(similarity.lags)), np.nan)])
        push_weights = np.vstack([weights, np.ones((closing, len(similarity.lags)))])
        first = min(self._first_due(), len(samples))
        peaks = Peaks(pool.means_after(pushes, push_weights, first), self._shortest_lag())
        return [
            self._judge(sample, sample_t, peaks.row(i), profile, centred=True)
            for i, (sample, sample_t, profile) in enumerate(queue)
        ]

    def _first_due(self) -> int:
        """How many more samples are centred before the oldest waiting one is judged, less one."""
        return self._half - len(self._waiting)
