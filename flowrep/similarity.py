"""Self-similarity of a stream of feature vectors: for each lag, how alike the recent window of
features is to the same window that lag earlier (`SelfSimilarity`, the mean along one diagonal of a
self-similarity matrix, as in RepNet), such profiles pooled over time (`Pool`), and the period a
profile shows (`Peaks`, `choose_period`). flowrep.periodicity turns these into repetition evidence.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

#: A window holds at least this many pairs of samples, however low the frame rate: fewer make a
#: noisy correlation (a webcam's 10 frames/s give 5 in half a second).
_FEWEST_PAIRS = 8
#: The frame's own window refines the pooled period within this share of it.
_LOCAL_TOLERANCE = 0.3


class SelfSimilarity:
    """Streaming self-similarity profiles: each `update` takes the next sample's feature vector and
    returns, for lags 0 … max_lag, the correlation (Pearson's, over all feature components) between
    the window of samples that ends now and the same window that lag earlier; NaN where the stream is
    not yet long enough. Cumulative sums in rings make each sample cost one pass over the lags, and
    memory is bounded by the longest lag."""

    def __init__(self, dim: int, frame_s: float, window_s: float, longest_period_s: float) -> None:
        self.max_lag = max(2, math.ceil(longest_period_s / frame_s))
        self.lags = np.arange(self.max_lag + 1)
        self.windows = np.maximum(max(_FEWEST_PAIRS, round(window_s / frame_s)), self.lags)
        self._recent = np.zeros((self.max_lag + 1, dim))  # the last features, a ring by sample number
        self._depth = int(self.windows.max()) + self.max_lag + 2
        # Cumulative sums, a ring by sample number, with one more row of zeros for "before the stream".
        self._products = np.zeros((self._depth + 1, self.max_lag + 1))  # Σ <f_t, f_(t-k)>, per lag
        self._sums = np.zeros((self._depth + 1, dim))  # Σ f_t
        self._energy = np.zeros(self._depth + 1)  # Σ |f_t|²
        self.samples = 0

    def update(self, feature: np.ndarray) -> np.ndarray:
        t, ring = self.samples, self._depth
        slots = len(self._recent)
        self._recent[t % slots] = feature
        products = (self._recent @ feature)[(t - self.lags) % slots]  # <f_t, f_(t-k)>, by lag
        before = (t - 1) % ring if t else ring
        self._products[t % ring] = self._products[before] + products
        self._sums[t % ring] = self._sums[before] + feature
        self._energy[t % ring] = self._energy[before] + float(feature @ feature)
        self.samples = t + 1
        return self._profile(t)

    def _rows(self, samples: np.ndarray) -> np.ndarray:
        """Ring rows of cumulative sums at these sample numbers (the zero row before the stream)."""
        return np.where(samples >= 0, samples % self._depth, self._depth)

    def _profile(self, t: int) -> np.ndarray:
        lags, windows = self.lags, self.windows
        now, back = self._rows(np.array([t])), self._rows(t - windows)
        then, then_back = self._rows(t - lags), self._rows(t - lags - windows)
        pairs = self._products[now, lags] - self._products[back, lags]
        sum_here = self._sums[now] - self._sums[back]
        sum_earlier = self._sums[then] - self._sums[then_back]
        covariance = pairs - np.einsum("ij,ij->i", sum_here, sum_earlier) / windows
        spread_here = self._energy[now] - self._energy[back] - np.einsum("ij,ij->i", sum_here, sum_here) / windows
        spread_earlier = (
            self._energy[then] - self._energy[then_back] - np.einsum("ij,ij->i", sum_earlier, sum_earlier) / windows
        )
        scale = spread_here * spread_earlier
        with np.errstate(invalid="ignore", divide="ignore"):
            profile = covariance / np.sqrt(scale)
        profile[(t - windows - lags + 1 < 0) | ~(scale > 1e-18)] = np.nan
        return profile


class Peaks:
    """The clear peaks of one or more pooled profiles (rows), row by row: lags after a dip below zero
    and no shorter than `shortest_lag`, with their heights between lags (`_peak_heights`). Made for
    many rows at once where a stream's remaining samples are judged together."""

    def __init__(self, profiles: np.ndarray, shortest_lag: int) -> None:
        r = np.where(np.isnan(profiles), -np.inf, profiles)
        finite = np.isfinite(r)
        at, before, after = r[:, 1:-1], r[:, :-2], r[:, 2:]  # each inner lag, and its neighbours
        peak = (at >= before) & (at > after) & finite[:, 1:-1]
        peak &= np.minimum.accumulate(np.where(finite, r, np.inf), axis=1)[:, 1:-1] < 0.0  # after a dip below zero
        peak[:, : max(0, shortest_lag - 1)] = False  # inner lag k sits at k - 1
        rows, inner = np.nonzero(peak)  # by row, then by lag
        # Plain lists from here: a row has a few peaks, which Python picks among faster than NumPy.
        self._lags: list[int] = (inner + 1).tolist()
        self._heights: list[float] = _peak_heights(r[rows, inner], r[rows, inner + 1], r[rows, inner + 2]).tolist()
        self._bounds: list[int] = np.searchsorted(rows, np.arange(len(r) + 1)).tolist()

    def row(self, i: int) -> tuple[list[int], list[float]]:
        """Row i's peaks: their lags, shortest first, and heights."""
        lo, hi = self._bounds[i], self._bounds[i + 1]
        return self._lags[lo:hi], self._heights[lo:hi]


def choose_period(
    peaks: tuple[list[int], list[float]],
    local: np.ndarray,
    shortest_lag: int,
    near: float,
    previous: float | None = None,
) -> tuple[float, float] | None:
    """(lag in samples, refined between samples; strength) from a pooled profile's peaks (a `Peaks`
    row) and the frame's own profile, or None where the pooled profile has no clear peak. A period
    found just before (`previous`, in samples) is kept while the pooled profile peaks near it at least
    as high as at the shorter lag."""
    lag = _shortest_near_best(*peaks, near, previous)
    if lag is None:
        return None
    lo = max(shortest_lag, int(lag * (1 - _LOCAL_TOLERANCE)))
    hi = min(len(local) - 2, math.ceil(lag * (1 + _LOCAL_TOLERANCE)))
    if hi < lo:
        return None
    values = local[lo - 1 : hi + 2].tolist()  # lags lo - 1 … hi + 1
    around = [value if value == value else -math.inf for value in values[1:-1]]  # NaN (≠ itself) loses
    top = max(around)
    if top == -math.inf:  # all NaN
        return None
    k = around.index(top)  # the first best, lag lo + k
    before, at, after = values[k], values[k + 1], values[k + 2]
    if not (at >= before and at >= after):  # no peak of its own near the pooled one: keep that lag
        at_lag = values[lag - lo + 1]
        return float(lag), at_lag if at_lag == at_lag else 0.0
    bend = before - 2 * at + after
    return lo + k + (0.5 * (before - after) / bend if bend < 0 else 0.0), at


def _shortest_near_best(
    candidates: list[int], heights: list[float], near: float, previous: float | None = None
) -> int | None:
    """Of a profile's peaks, the lag within `near` of the best one's height: the shortest, unless a
    peak close to `previous` is at least as high (so a period is kept while its half, say a jumping
    jack's hop, only comes near it)."""
    if not candidates:
        return None
    floor = max(heights) - near
    good = [(lag, height) for lag, height in zip(candidates, heights) if height >= floor]
    shortest, shortest_height = good[0]
    if previous is not None:
        close = [
            (abs(lag - previous), k)
            for k, (lag, _) in enumerate(good)
            if abs(lag - previous) <= _LOCAL_TOLERANCE * previous
        ]
        if close:
            k = min(close)[1]  # the closest of the close ones (the shorter on a tie)
            if good[k][1] >= shortest_height:
                return good[k][0]
    return shortest


def _peak_heights(before: np.ndarray, at: np.ndarray, after: np.ndarray) -> np.ndarray:
    """The heights of a profile's peaks (at, with their neighbours) between lags: the top of the
    parabola through each peak and its two neighbours (a period of 10.5 samples peaks lower at lags
    10 and 11 than its double does at 21, which it should not be judged by)."""
    bend = before - 2 * at + after
    with np.errstate(invalid="ignore", divide="ignore"):
        top = at - (after - before) ** 2 / (8 * bend)
    return np.where(np.isfinite(before) & np.isfinite(after) & (bend < 0), np.minimum(top, 1.0), at)


class Pool:
    """The weighted mean of the last profiles (running sums over a ring)."""

    def __init__(self, length: int, lags: int) -> None:
        self._ring: deque[tuple[np.ndarray, np.ndarray]] = deque()
        self._length = length
        self._sum = np.zeros(lags)
        self._weight = np.zeros(lags)

    def push(self, profile: np.ndarray, weights: np.ndarray | float = 1.0) -> None:
        entry = _entry(profile, weights)
        self._ring.append(entry)
        _add(self._sum, self._weight, entry, 1.0)
        if len(self._ring) > self._length:
            _add(self._sum, self._weight, self._ring.popleft(), -1.0)

    def mean(self) -> np.ndarray:
        return _mean(self._sum, self._weight)

    def means_after(self, profiles: np.ndarray, weights: np.ndarray, first: int) -> np.ndarray:
        """The mean after each of these pushes (one profile and its weights a row) from the `first`
        (0-based) on, one row each, as if they were pushed; the pool itself is left as it is. The
        same sums as `push`, added in the same order (so the same numbers), without a loop over them."""
        lags = len(self._sum)
        if len(profiles) == 0:
            return np.empty((0, lags))
        missing = np.isnan(profiles)
        held_p, held_w = (np.reshape([entry[i] for entry in self._ring], (-1, lags)) for i in (0, 1))
        entries_p = np.vstack([held_p, np.where(missing, 0.0, profiles)])  # the ring, then these
        entries_w = np.vstack([held_w, np.where(missing, 0.0, weights)])
        steps: list[tuple[int, float]] = []  # (entry, +1 added or -1 dropped), in the order push makes them
        ends = []  # the step after which each push is done
        oldest, held = 0, len(self._ring)
        for entry in range(held, held + len(profiles)):
            steps.append((entry, 1.0))
            if entry + 1 - oldest > self._length:
                steps.append((oldest, -1.0))
                oldest += 1
            ends.append(len(steps))
        index, sign = (np.array(column) for column in zip(*steps))
        signed_weights = sign[:, None] * entries_w[index]
        sums = np.add.accumulate(np.vstack([self._sum, signed_weights * entries_p[index]]), axis=0)
        weight_sums = np.add.accumulate(np.vstack([self._weight, signed_weights]), axis=0)
        return _mean(sums[ends[first:]], weight_sums[ends[first:]])


def _entry(profile: np.ndarray, weights: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    missing = np.isnan(profile)
    return np.where(missing, 0.0, profile), np.where(missing, 0.0, weights)


def _add(sums: np.ndarray, weights: np.ndarray, entry: tuple[np.ndarray, np.ndarray], sign: float) -> None:
    profile, profile_weights = entry
    sums += sign * profile_weights * profile
    weights += sign * profile_weights


def _mean(sums: np.ndarray, weights: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weights > 1e-6, sums / np.maximum(weights, 1e-12), np.nan)
