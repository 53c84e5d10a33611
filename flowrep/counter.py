"""Turns a stream of P(down), P(still), P(up) into repetitions, live.

Owns the counting rule. The signed signal s = P(down) − P(up), lightly smoothed, is integrated
above a dead zone into a "displacement" x (seconds of confident motion along the axis). A swing
is one monotonic run of x; its end is confirmed when x turns back by more than a threshold δ, or
when the motion stops. δ follows the size of recent swings in the same direction, so one rule
counts a 4-frame jump-rope turn and a slow squat, and ignores jitter that is small next to the
exercise's own swings. Two opposite swings make one cycle, in either order (down-and-up, or
up-and-down).

Some exercises make two such cycles per repetition (a jumping jack's body hops out and back in;
a burpee crouches, then jumps). When a frame's coarse motion field is given, each finished cycle
asks how alike the recent motion is to itself one cycle back and two cycles back; while it is
clearly more alike two cycles back, two cycles make one rep. The field is compared on its
left-right symmetric part, so that alternating sides (alternating curls or lunges) do not read
as two halves of one rep. The count never goes back.

Fast, steady motion (speed steps with a rope, painting, shovelling) can defeat the swings: each
half-cycle lasts a frame or two, and a small bias in s makes x drift past the turns. A rhythm
tracker therefore watches s itself: while its recent autocorrelation has a clear peak (a period),
it advances a phase by dt / period, and each whole turn of that phase is a cycle. Over a stretch
with a steady rhythm, the counter keeps the larger of the two cycle counts: a cycle that the swings
missed is added as the rhythm completes it, and one that the swings found is never added twice.

Where s shows no period, the tracker looks at the frame's mean flow speed, whatever its direction,
when it is given. Some fast motions repeat their direction pattern only every other rep (the
alternating feet of speed steps), yet every rep is one pulse of speed. A speed period counts only
where s does not reverse between pulses: a back-and-forth (a squat's down and up) makes two speed
pulses per rep, with s opposite at one pulse's lag. A rhythm faster than `rhythm_whole_rep_s`
makes one rep per cycle: no rep has two distinct halves in so little time. A speed period longer
than `rhythm_speed_longest_s` is not a rhythm of reps: a slow rep with several phases (a burpee
crouches, stands, jumps and lands) pulses in speed once a phase, and the reading follows the rep.

For such fast rhythms only, the frame's mean flow velocity (the mean of its coarse field) is the
last resort: a rope skipper whose steps the classifier cannot resolve still sways the image left and
right once a step. That period counts only if its repeating part is a fair share of all the mean
motion, so that a small flicker in one direction (compression noise, a sway) beside a slow movement
in the other is not read as a rhythm. Slower periods of the mean velocity are left alone: there, a
pedalling or rowing motion makes a velocity pulse per limb, half a rep.

A rhythm found only in the speed or the velocity turns only while the classifier finds the person
more likely moving than still: a camera on a vibrating stand, or a flickering light, makes the
speed and the mean flow repeat too, while the person stands still. And s must turn (change sign)
at least once every other cycle of such a rhythm, since a repetition goes back and forth: someone
walking across the picture pulses in speed at every step while s points one way, and a light's
flicker can make the speed repeat fast beside a slow movement whose reading hardly turns.

Frames that only repeat the one before (frame-rate conversion) carry no reading; the rhythm
tracker interpolates over them instead of seeing the held value as one more sample.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from statistics import median
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Rep:
    number: int
    start_s: float
    turn_s: float
    end_s: float
    counted_s: float  # when the counter announced it (at or after end_s)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class CounterSettings:
    smoothing_s: float = 0.05  # time constant of the exponential smoothing of s
    moving_level: float = 0.25  # |s| above this is motion …
    still_level: float = 0.12  # … and below this, stillness
    stop_s: float = 0.25  # stillness that long ends a swing
    min_swing: float = 0.03  # smallest swing (seconds of confident motion) that counts
    relative_swing: float = 0.3  # a turn must exceed this share of the recent median swing
    memory: int = 6  # swings remembered for that median
    reset_after_s: float = 4.0  # stillness that long starts a new set (either direction first)
    alternation_margin: float = 0.25  # how much more alike motion must be two cycles back than one
    alternation_votes: int = 3  # cycles of evidence kept for the cycles-per-rep decision …
    alternation_min_votes: int = 2  # … and needed before two cycles make one rep
    rhythm_window_s: float = 4.0  # history in which the rhythm tracker looks for a period …
    rhythm_periods_s: tuple[float, float] = (0.1, 2.0)  # … this short to this long, seen twice at least
    rhythm_correlation: float = 0.5  # autocorrelation at the period that makes a rhythm …
    rhythm_dip: float = -0.2  # … after falling at least this low (an opposite phase in between)
    rhythm_reversal: float = -0.2  # s this correlated one speed pulse apart turns over between pulses
    rhythm_whole_rep_s: float = 0.25  # a rhythm this fast makes one rep per cycle
    rhythm_velocity_share: float = 0.2  # share of the mean velocity's variance that must repeat
    rhythm_speed_longest_s: float = 0.5  # a speed rhythm slower than this is phases of a rep, not reps
    rhythm_still_probability: float = 0.5  # a speed or velocity rhythm turns only while P(still) is below
    rhythm_turns_per_cycle: float = 0.5  # … and needs s to turn this often per cycle (twice for a back-and-forth)


@dataclass
class _Swing:
    sign: int
    start_s: float
    start_x: float
    extreme_s: float
    extreme_x: float
    completed_rep: bool = False  # already closed a cycle as its return half

    @property
    def size(self) -> float:
        return abs(self.extreme_x - self.start_x)


@dataclass
class RepCounter:
    """Live counter: feed it every frame's probabilities in time order."""

    settings: CounterSettings = field(default_factory=CounterSettings)
    count: int = 0

    def __post_init__(self) -> None:
        self._smoothed = 0.0
        self._x = 0.0
        self._last_t: float | None = None
        self._still_since: float | None = None
        self._swing: _Swing | None = None  # the swing under way (it may be paused)
        self._pending: _Swing | None = None  # a finished swing waiting for its return
        # Swing sizes per direction: a slow descent and a quick rise each keep their own scale.
        self._sizes: dict[int, deque[float]] = {1: deque(maxlen=self.settings.memory),
                                                -1: deque(maxlen=self.settings.memory)}
        self._fields: deque[tuple[float, np.ndarray]] = deque()  # recent (t, coarse motion field)
        self._durations: deque[float] = deque(maxlen=self.settings.memory)
        self._votes: deque[float] = deque(maxlen=self.settings.alternation_votes)
        self.cycles_per_rep = 1
        self._segment_base = 0  # count when the current run of same-kind cycles began
        self._segment_cycles = 0
        self._rep_start_s: float | None = None
        self._rhythm = _Rhythm(self.settings)
        self._last_cycle_end_s: float | None = None

    def _decide_cycles_per_rep(self) -> None:
        """2 once cycles clearly alternate in shape (two distinct halves per rep); back to 1 only
        when recent cycles are clearly alike, so one odd cycle (a zoom, a stumble) changes nothing.
        Two cycles make one rep only on more than one cycle's evidence: a camera that moves for a
        moment makes one cycle unlike the last, and would otherwise halve the count of a slow set."""
        if not self._votes:
            return
        mean_vote = sum(self._votes) / len(self._votes)
        enough = len(self._votes) >= self.settings.alternation_min_votes
        if mean_vote > self.settings.alternation_margin and enough:
            self.cycles_per_rep = 2
        elif mean_vote < 0.0:
            self.cycles_per_rep = 1

    def threshold(self, sign: int) -> float:
        """δ for swings in one direction: the smallest that counts, and the turn into that
        direction that confirms the swing before it has ended."""
        sizes = self._sizes[sign]
        if not sizes:
            return self.settings.min_swing
        return max(self.settings.min_swing, self.settings.relative_swing * median(sizes))

    def update(self, t: float, probabilities: np.ndarray, motion_field: np.ndarray | None = None,
               mean_speed: float | None = None, repeated: bool = False) -> Rep | None:
        """Feeds one frame's (down, still, up) probabilities, and optionally its coarse motion field
        (rows × columns × (dx, dy), image coordinates) and mean flow speed (any unit, the same
        throughout); `repeated` says the frame only repeats the one before, and brings the last
        reading again. Returns the rep this frame completes, if any."""
        cfg = self.settings
        if motion_field is not None:
            self._fields.append((t, _left_right_symmetric(motion_field).ravel()))
            while self._fields and t - self._fields[0][0] > _FIELD_MEMORY_S:
                self._fields.popleft()
        signal = float(probabilities[0] - probabilities[2])
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        self._smoothed += min(1.0, dt / cfg.smoothing_s) * (signal - self._smoothed)
        level = abs(self._smoothed)
        # Only confident motion moves x: the noise of a still frame integrates to nothing.
        self._x += math.copysign(max(0.0, level - cfg.still_level), self._smoothed) * dt
        if level < cfg.still_level:
            self._still_since = t if self._still_since is None else self._still_since
        elif level >= cfg.moving_level:
            self._still_since = None

        rep = self._follow_swing(t, moving=level >= cfg.moving_level)
        still_for = 0.0 if self._still_since is None else t - self._still_since
        if still_for >= cfg.stop_s and self._swing is not None and rep is None:
            rep = self._complete_cycle(self._swing)
        velocity = None if motion_field is None else motion_field.reshape(-1, 2).mean(axis=0)
        if self._rhythm.update(t, signal, float(probabilities[1]), dt, mean_speed, velocity, repeated) and rep is None:
            rep = self._on_rhythm_cycle(t)
        if still_for >= cfg.reset_after_s:
            self._start_new_set()
        return rep

    def finish(self) -> Rep | None:
        """The stream has ended: the swing under way ends too (as if the person had stopped).

        A clip often stops as its last rep ends. If the person is still moving, and a whole typical
        cycle's time has passed since the last rep ended, that rep is done even though its swings
        were never paired: the swings paired out of step with the reps (the clip opened mid-rep),
        or two strokes read as one long swing."""
        swing = self._swing
        if swing is None:
            return None
        rep = self._complete_cycle(swing)
        if rep is not None or swing.completed_rep:
            return rep
        last_end, now = self._last_cycle_end_s, self._last_t
        if last_end is None or now is None or not self._durations:
            return None
        moving = self._still_since is None and swing.size >= self.threshold(swing.sign)
        if not moving or now - last_end < median(self._durations):
            return None
        return self._on_cycle(last_end, swing.start_s, now)

    def _on_rhythm_cycle(self, t: float) -> Rep | None:
        """The rhythm completed a cycle: it counts only if the swings are a whole cycle behind
        (the two see the same cycle end at slightly different times)."""
        if self._rhythm.cycles <= self._rhythm.swing_cycles + self._rhythm.added_cycles + 1:
            return None
        self._rhythm.added_cycles += 1
        start = t - (self._rhythm.period_s or 0.0)
        if self._last_cycle_end_s is not None:
            start = max(start, self._last_cycle_end_s)  # cycles do not overlap
        self._pending = None  # the swings' half-cycle under way belongs to this cycle
        if self._swing is not None:
            self._swing.completed_rep = True
        return self._on_cycle(start, 0.5 * (start + t), t, from_swings=False)

    def _start_new_set(self) -> None:
        self._rhythm.reset()
        self._swing = None
        self._pending = None
        for sizes in self._sizes.values():
            sizes.clear()
        self._durations.clear()
        self._votes.clear()
        self.cycles_per_rep = 1
        self._segment_base, self._segment_cycles = self.count, 0
        self._rep_start_s = None

    def _follow_swing(self, t: float, moving: bool) -> Rep | None:
        swing, x = self._swing, self._x
        if swing is None:
            if moving:
                self._swing = _Swing(1 if self._smoothed > 0 else -1, t, x, t, x)
            return None
        if (x - swing.extreme_x) * swing.sign > 0:
            swing.extreme_s, swing.extreme_x = t, x
            return None
        if x == swing.extreme_x:
            return None
        if abs(x - swing.extreme_x) <= self.threshold(-swing.sign):
            return None
        # Turned back far enough: the swing is over and a new one, the other way, has begun.
        rep = self._close(swing)
        self._swing = _Swing(-swing.sign, swing.extreme_s, swing.extreme_x, t, x)
        return rep

    def _close(self, swing: _Swing) -> Rep | None:
        if swing.size < self.threshold(swing.sign):
            return None  # jitter: neither half of a rep
        self._sizes[swing.sign].append(swing.size)
        if swing.completed_rep:
            return None
        rep = self._complete_cycle(swing)
        if not swing.completed_rep:  # it closed no cycle: it is the first half of the next one
            self._pending = swing
        return rep

    def _complete_cycle(self, swing: _Swing) -> Rep | None:
        """Closes a cycle if this swing returns from the pending one (and was not used yet)."""
        half = self._pending
        if (swing.completed_rep or half is None or half.sign == swing.sign
                or swing.size < self.threshold(swing.sign)):
            return None
        swing.completed_rep = True
        self._pending = None
        return self._on_cycle(half.start_s, half.extreme_s, swing.extreme_s)

    def _on_cycle(self, start_s: float, turn_s: float, end_s: float, from_swings: bool = True) -> Rep | None:
        now = self._last_t if self._last_t is not None else end_s
        if from_swings:
            self._rhythm.swing_cycles += 1
        self._last_cycle_end_s = end_s
        was_doubled = self.cycles_per_rep == 2
        self._record_cycle(start_s, end_s)
        self._decide_cycles_per_rep()
        cycles_per_rep = self.cycles_per_rep
        if was_doubled and cycles_per_rep == 1:  # halves stopped alternating: count afresh from here
            self._segment_base, self._segment_cycles = self.count, 0
        self._segment_cycles += 1
        if self._rep_start_s is None:
            self._rep_start_s = start_s
        # Doubling is only recognised after a few cycles; it then applies to the whole segment,
        # so the count holds still until the cycles catch up rather than going back.
        target = self._segment_base + math.ceil(self._segment_cycles / cycles_per_rep)
        if target <= self.count:
            return None
        self.count += 1
        rep = Rep(self.count, self._rep_start_s, turn_s, end_s, max(now, end_s))
        self._rep_start_s = None
        return rep

    def _record_cycle(self, start_s: float, end_s: float) -> None:
        self._durations.append(end_s - start_s)
        rhythm_s = self._rhythm.period_s
        if rhythm_s is not None and rhythm_s < self.settings.rhythm_whole_rep_s:
            self._votes.append(-1.0)  # alike: too fast to be half a rep
            return
        like = self._self_likeness(median(self._durations))
        if like is not None:
            one_back, two_back = like
            self._votes.append(two_back - one_back)

    def _self_likeness(self, period_s: float) -> tuple[float, float] | None:
        """How alike the recent motion is to itself one and two cycles earlier (best lag near each)."""
        if len(self._fields) < 8:
            return None
        times = np.fromiter((t for t, _ in self._fields), float, len(self._fields))
        frame_s = float(np.median(np.diff(times)))
        lag = period_s / max(frame_s, 1e-6)
        window = int(round(1.5 * lag))
        if window < 2 or len(self._fields) < window + int(2.4 * lag) + 1:
            return None
        fields = np.stack([f for _, f in self._fields])
        recent = fields[-window:]
        recent_energy = float((recent * recent).sum())

        def likeness(lo: float, hi: float) -> float:
            best = -1.0
            for k in range(max(1, int(lo * lag)), int(np.ceil(hi * lag)) + 1):
                earlier = fields[-window - k:-k]
                denominator = np.sqrt(recent_energy * float((earlier * earlier).sum()))
                if denominator > 0:
                    best = max(best, float((recent * earlier).sum()) / denominator)
            return best

        return likeness(0.75, 1.25), likeness(1.6, 2.4)


class _History:
    """The last `span_s` of per-frame readings, as columns of one array (time, s, P(still), speed,
    mean velocity dx and dy, repeated), so that the rhythm tracker reads them without copying."""

    TIME, SIGNAL, STILL, SPEED, DX, DY, REPEATED = range(7)

    def __init__(self, span_s: float) -> None:
        self.span_s = span_s
        self._rows = np.empty((256, 7))
        self._start = self._end = 0

    def clear(self) -> None:
        self._start = self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def append(self, t: float, signal: float, still: float, speed: float | None, velocity: np.ndarray | None,
               repeated: bool) -> None:
        if self._end == len(self._rows):
            live = self._rows[self._start:self._end]
            if len(live) > len(self._rows) // 2:
                self._rows = np.concatenate([live, np.empty_like(self._rows)])
            else:
                self._rows[:len(live)] = live
            self._start, self._end = 0, len(live)
        dx, dy = (0.0, 0.0) if velocity is None else (float(velocity[0]), float(velocity[1]))
        self._rows[self._end] = (t, signal, still, math.nan if speed is None else speed, dx, dy, float(repeated))
        self._end += 1
        times = self._rows[self._start:self._end, self.TIME]
        self._start += int(np.searchsorted(times, t - self.span_s, side="left"))

    def column(self, index: int) -> np.ndarray:
        return self._rows[self._start:self._end, index]

    def columns(self, first: int, last: int) -> np.ndarray:
        return self._rows[self._start:self._end, first:last + 1]


class _Rhythm:
    """Finds a steady period in the recent signal and turns a phase at that rate.

    `cycles` counts whole turns since the rhythm was found; the counter keeps, in `swing_cycles`
    and `added_cycles`, the cycles it counted from swings and from the rhythm over the same stretch.
    The phase turns while a period was found within the last period; the stretch ends when none
    has been found for half the window.
    """

    def __init__(self, settings: CounterSettings) -> None:
        self.settings = settings
        self._history = _History(settings.rhythm_window_s)
        self.reset()

    def reset(self) -> None:
        self._history.clear()
        self.period_s: float | None = None
        self._found_at = -math.inf
        self._in_signal = True  # the period was found in s itself (not in the speed or velocity)
        self._phase = 0.0
        self.cycles = 0
        self.swing_cycles = 0
        self.added_cycles = 0

    def update(self, t: float, signal: float, still: float, dt: float, speed: float | None = None,
               velocity: np.ndarray | None = None, repeated: bool = False) -> bool:
        """Feeds one frame (s and P(still)); True when the rhythm has just completed a cycle."""
        cfg = self.settings
        self._history.append(t, signal, still, speed, velocity, repeated)
        found = self._period()
        if found is not None:
            period, self._in_signal = found
            if self.period_s is None:  # a new stretch: nothing counted in it yet
                self._phase, self.cycles, self.swing_cycles, self.added_cycles = 0.0, 0, 0, 0
            self.period_s, self._found_at = period, t
        elif self.period_s is not None and t - self._found_at > 0.5 * cfg.rhythm_window_s:
            self.period_s = None
        if (self.period_s is None or t - self._found_at > self.period_s
                or not self._moving(t, self.period_s, self._in_signal)):
            return False
        self._phase += dt / self.period_s
        if self._phase < 1.0:
            return False
        self._phase -= 1.0
        self.cycles += 1
        return True

    def _moving(self, t: float, period_s: float, in_signal: bool) -> bool:
        """Motion over the last period: the window may still hold a rhythm that has stopped. A period
        found in s is motion as long as s is not still; one found only in the speed or velocity needs
        the classifier to find the person more likely moving than still: a vibrating camera or a
        flickering light repeats too, while the person stands still."""
        times = self._history.column(_History.TIME)
        start = int(np.searchsorted(times, t - period_s, side="left"))
        if in_signal:
            return float(np.abs(self._history.column(_History.SIGNAL)[start:]).mean()) >= self.settings.still_level
        still = float(self._history.column(_History.STILL)[start:].mean())
        return still < self.settings.rhythm_still_probability

    def _period(self) -> tuple[float, bool] | None:
        """The period of s, or failing that of the speed, or for a fast rhythm of the mean velocity,
        in seconds, if there is a clear one; and whether it was found in s."""
        cfg = self.settings
        history = self._history
        n = len(history)
        if n < 8:
            return None
        times = history.column(_History.TIME)
        frame_s = float(times[-1] - times[0]) / (n - 1)
        shortest, longest = cfg.rhythm_periods_s
        max_lag = min(int(longest / frame_s) + 1, n // 2)
        if max_lag < 3:
            return None
        shortest_lag = math.ceil(shortest / frame_s)
        fresh = _fresh_frames(history.column(_History.REPEATED))

        def autocorrelation(column: int, floor: float = 1e-6, lags: int = max_lag) -> np.ndarray | None:
            values = history.column(column)
            if fresh is not None:  # repeated frames hold the last value: interpolate over them
                values = np.interp(times, times[fresh], values[fresh])
            return _autocorrelation(values, lags, floor)

        signal = autocorrelation(_History.SIGNAL)
        if signal is None:
            return None
        lag = _first_peak(signal, shortest_lag, cfg)
        if lag is not None:
            return lag * frame_s, True
        # The other measures need the window half full: on a second or two, noise can look periodic.
        if times[-1] - times[0] < 0.5 * cfg.rhythm_window_s:
            return None

        def turns_over(lag: float) -> bool:  # s opposite one lag apart: each pulse is half a back-and-forth
            return _at_lag(signal, lag) < cfg.rhythm_reversal

        def plausible(lag: float | None) -> bool:
            return lag is not None and not turns_over(lag) and self._reading_turns(lag * frame_s)

        if not np.isnan(history.column(_History.SPEED)).any():
            # One lag past the bound, so that a peak just under it can be confirmed; the refined
            # (sub-frame) lag is then checked against the bound itself.
            speed_lags = min(max_lag, math.ceil(cfg.rhythm_speed_longest_s / frame_s))
            speed = autocorrelation(_History.SPEED, floor=0.0, lags=speed_lags)
            lag = None if speed is None else _first_peak(speed, shortest_lag, cfg)
            lag = None if lag is None or lag * frame_s >= cfg.rhythm_speed_longest_s else lag
            if plausible(lag):
                return lag * frame_s, False
        lag = self._fast_velocity_lag(autocorrelation, shortest_lag, frame_s)
        if plausible(lag):
            return lag * frame_s, False
        return None

    def _reading_turns(self, period_s: float) -> bool:
        """The direction reading (s, zeros aside) turns at least `rhythm_turns_per_cycle` times per
        cycle of a speed or sway rhythm: a repetition goes back and forth, while walking across the
        picture, or a flicker beside a slow, steady movement, repeats without s turning."""
        s = self._history.column(_History.SIGNAL)
        s = s[s != 0.0]
        turns = int(np.count_nonzero(np.diff(np.sign(s))))
        times = self._history.column(_History.TIME)
        return turns >= self.settings.rhythm_turns_per_cycle * (times[-1] - times[0]) / period_s

    def _fast_velocity_lag(self, autocorrelation: Callable[..., np.ndarray | None], shortest_lag: int,
                           frame_s: float) -> float | None:
        """The lag of a rhythm faster than `rhythm_whole_rep_s` in one component of the mean flow
        velocity, if its repeating part is at least `rhythm_velocity_share` of the mean motion."""
        cfg = self.settings
        variances = self._history.columns(_History.DX, _History.DY).var(axis=0).tolist()
        total = sum(variances)
        if total <= 0.0 or frame_s * shortest_lag >= cfg.rhythm_whole_rep_s:
            return None
        fast_lags = math.ceil(cfg.rhythm_whole_rep_s / frame_s) + 1
        for column, variance in zip((_History.DX, _History.DY), variances):
            r = autocorrelation(column, floor=0.0, lags=fast_lags)
            lag = None if r is None else _first_peak(r, shortest_lag, cfg)
            if lag is None or lag * frame_s >= cfg.rhythm_whole_rep_s:
                continue
            if _at_lag(r, lag) * variance / total >= cfg.rhythm_velocity_share:
                return lag
        return None


def _fresh_frames(repeated: np.ndarray) -> np.ndarray | None:
    """The mask of frames that were measured, where some repeat the one before (and at least two
    were measured); None where every frame counts as it is. A repeat holds the last value, and a
    frame-rate conversion's repeats would otherwise stretch some cycles by a frame."""
    fresh = repeated == 0
    return None if fresh.all() or np.count_nonzero(fresh) < 2 else fresh


def _autocorrelation(values: np.ndarray, max_lag: int, floor: float = 1e-6) -> np.ndarray | None:
    """Mean product of the centred values at lags 0 … max_lag + 1 over their variance (each lag's
    mean, so that long lags are not shrunk); None for a flat window (variance at most floor)."""
    centred = values - values.mean()
    n = len(centred)
    energy = float(centred @ centred)
    if energy <= floor * n:
        return None
    lags = np.arange(max_lag + 2)
    products = np.correlate(centred, centred, "full")[n - 1:n + max_lag + 1]
    return products / energy * n / (n - lags)


def _at_lag(correlations: np.ndarray, lag: float) -> float:
    """The autocorrelation at a lag between frames, interpolated."""
    return float(np.interp(lag, np.arange(len(correlations)), correlations))


def _first_peak(correlations: np.ndarray, shortest_lag: int, cfg: CounterSettings) -> float | None:
    """The lag, refined between frames, of the first clear peak after a dip, if there is one."""
    r = correlations.tolist()  # plain floats: this loop runs on every frame
    lowest = 1.0
    for lag in range(1, len(r) - 1):
        lowest = min(lowest, r[lag])
        if lag < shortest_lag or r[lag] < r[lag - 1] or r[lag] < r[lag + 1] or lowest > cfg.rhythm_dip:
            continue
        if r[lag] < cfg.rhythm_correlation:
            return None  # the first peak after a dip is the period: a weak one means no rhythm
        bend = r[lag - 1] - 2 * r[lag] + r[lag + 1]
        offset = 0.5 * (r[lag - 1] - r[lag + 1]) / bend if bend < 0 else 0.0
        return lag + offset
    return None


def _left_right_symmetric(field: np.ndarray) -> np.ndarray:
    """The part of a motion field that its mirror image shares. Alternating sides (left foot,
    right foot; one arm, then the other) are one rep each, not two halves of one: comparing
    cycles on this part keeps them alike, while arms-up and arms-down still differ."""
    mirrored = field[:, ::-1].copy()
    mirrored[..., 0] *= -1
    return 0.5 * (field + mirrored)


#: How long motion fields are kept: longer than any cycle worth grouping.
_FIELD_MEMORY_S = 12.0
