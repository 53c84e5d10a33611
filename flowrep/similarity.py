"""Self-similarity of a stream of feature vectors: for each lag, how alike the recent window of
features is to the same window that lag earlier (`SelfSimilarity`, the mean along one diagonal of a
self-similarity matrix, as in RepNet), such profiles pooled over time (`Pool`), and the period a
profile shows (`choose_period`). flowrep.periodicity turns these into repetition evidence.
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


def choose_period(
    context: np.ndarray, local: np.ndarray, shortest_lag: int, near: float, previous: float | None = None
) -> tuple[float, float] | None:
    """(lag in samples, refined between samples; strength) from a pooled profile and the frame's own,
    or None where the pooled profile has no clear peak. A period found just before (`previous`, in
    samples) is kept while the pooled profile peaks near it at least as high as at the shorter lag."""
    lag = _shortest_near_best(context, shortest_lag, near, previous)
    if lag is None:
        return None
    lo = max(shortest_lag, int(lag * (1 - _LOCAL_TOLERANCE)))
    hi = min(len(local) - 2, math.ceil(lag * (1 + _LOCAL_TOLERANCE)))
    if hi < lo:
        return None
    around = local[lo : hi + 1]
    around = np.where(np.isnan(around), -np.inf, around)  # np.nanargmax, without its copies and checks
    best = lo + int(np.argmax(around))
    if around[best - lo] == -np.inf:  # all NaN
        return None
    before, at, after = local[best - 1], local[best], local[best + 1]
    if not (at >= before and at >= after):  # no peak of its own near the pooled one: keep that lag
        return float(lag), float(local[lag]) if not np.isnan(local[lag]) else 0.0
    bend = before - 2 * at + after
    return best + (0.5 * (before - after) / bend if bend < 0 else 0.0), float(at)


def _shortest_near_best(
    profile: np.ndarray, shortest_lag: int, near: float, previous: float | None = None
) -> int | None:
    """The lag at a peak that follows a dip below zero and is within `near` of the best such peak (peaks
    compared by their heights between lags, `_peak_heights`): the shortest, unless a peak close to
    `previous` is at least as high (so a period is kept while its half, say a jumping jack's hop, only
    comes near it)."""
    r = np.where(np.isnan(profile), -np.inf, profile)
    finite = np.isfinite(r)
    at, before, after = r[1:-1], r[:-2], r[2:]  # each inner lag, and its neighbours
    peak = (at >= before) & (at > after) & finite[1:-1]
    peak &= np.minimum.accumulate(np.where(finite, r, np.inf))[1:-1] < 0.0  # after a dip below zero
    peak[: max(0, shortest_lag - 1)] = False  # inner lag k sits at k - 1
    candidates = np.flatnonzero(peak) + 1
    if len(candidates) == 0:
        return None
    heights = _peak_heights(r, candidates)
    near_best = heights >= heights.max() - near
    good, good_heights = candidates[near_best], heights[near_best]
    shortest = int(good[0])
    if previous is not None:
        distance = np.abs(good - previous)
        close = distance <= _LOCAL_TOLERANCE * previous
        if close.any():
            i = int(np.argmin(np.where(close, distance, np.inf)))  # the closest of the close ones
            if good_heights[i] >= good_heights[0]:
                return int(good[i])
    return shortest


def _peak_heights(r: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """The heights of a profile's peaks between lags: the top of the parabola through each peak and
    its two neighbours (a period of 10.5 samples peaks lower at lags 10 and 11 than its double does
    at 21, which it should not be judged by)."""
    before, at, after = r[peaks - 1], r[peaks], r[peaks + 1]
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
        missing = np.isnan(profile)
        entry = (np.where(missing, 0.0, profile), np.where(missing, 0.0, weights))
        self._ring.append(entry)
        self._add(entry, 1.0)
        if len(self._ring) > self._length:
            self._add(self._ring.popleft(), -1.0)

    def _add(self, entry: tuple[np.ndarray, np.ndarray], sign: float) -> None:
        profile, weights = entry
        self._sum += sign * weights * profile
        self._weight += sign * weights

    def mean(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self._weight > 1e-6, self._sum / np.maximum(self._weight, 1e-12), np.nan)
