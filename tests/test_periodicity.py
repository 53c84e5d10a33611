"""Repetition evidence: the self-similarity profile, the period it finds, and its two streaming forms."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from streams import exercise, noise_only

from flowrep.periodicity import ClipEvidence, LiveEvidence
from flowrep.similarity import Pool, SelfSimilarity


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def test_the_streaming_profile_is_the_correlation_of_each_window_with_itself_a_lag_earlier() -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 5)) + np.sin(np.arange(300) / 7.0)[:, None]
    similarity = SelfSimilarity(5, frame_s=0.1, window_s=1.0, longest_period_s=4.0)
    profiles = [similarity.update(f) for f in features]
    for t in (100, 150, 299):
        for lag in (1, 7, 25, 40):
            window = int(similarity.windows[lag])
            here = features[t - window + 1 : t + 1]
            earlier = features[t - window + 1 - lag : t + 1 - lag]
            assert profiles[t][lag] == pytest.approx(_pearson(here, earlier), abs=1e-9)
    assert np.isnan(profiles[60][40])  # not yet seen: 40 + a 40-sample window


@pytest.mark.parametrize("period_s", [0.4, 1.3, 4.0])
def test_a_repeated_motion_gives_its_period_in_both_forms(period_s: float) -> None:
    stream = exercise(8, period_s, lead_s=0.5, tail_s=0.0)
    clip, live = ClipEvidence(), LiveEvidence()
    live_evidence = []
    for t, p, field in zip(stream.times, stream.probabilities, stream.fields):
        clip.update(t, field.ravel(), float(p[1]))
        live_evidence += live.update(t, field.ravel(), float(p[1]))
    for evidence in (clip.finish(), live_evidence):
        late = [e for e in evidence if stream.rep_ends[3] < e.time_s < stream.rep_ends[-2]]  # well inside the set
        assert late and all(e.repeating for e in late)
        assert np.median([e.period_s for e in late]) == pytest.approx(period_s, rel=0.08)


def test_noise_repeats_nowhere() -> None:
    stream = noise_only(20.0)
    clip = ClipEvidence()
    for t, p, field in zip(stream.times, stream.probabilities, stream.fields):
        clip.update(t, field.ravel(), float(p[1]))
    assert not any(e.repeating for e in clip.finish())


def test_the_clip_form_gives_one_evidence_per_sample_in_bounded_memory() -> None:
    def run(reps: int) -> tuple[int, int, int]:
        stream = exercise(reps, 1.0)
        clip = ClipEvidence()
        for t, p, field in zip(stream.times, stream.probabilities, stream.fields):
            clip.update(t, field.ravel(), float(p[1]))
        held = clip._rows.nbytes + sum(profile.nbytes for *_, profile in clip._waiting)  # noqa: SLF001
        return len(clip.finish()), len(stream.times), held

    short_count, short_frames, short_held = run(40)
    long_count, long_frames, long_held = run(120)
    assert (short_count, long_count) == (short_frames, long_frames)
    assert long_held <= short_held * 1.05  # what waits for its context does not grow with the stream


def test_frames_that_arrive_irregularly_are_put_on_a_regular_grid() -> None:
    # A webcam: frames every 0.1 s give or take 15 ms, one dropped now and then.
    rng = np.random.default_rng(3)
    stream = exercise(10, 1.5, fps=10.0)
    clip = ClipEvidence()
    for i, (t, p, field) in enumerate(zip(stream.times, stream.probabilities, stream.fields)):
        if i % 17 == 5:
            continue
        clip.update(t + rng.uniform(-0.015, 0.015), field.ravel(), float(p[1]))
    evidence = clip.finish()
    assert clip.frame_s == pytest.approx(0.1, abs=0.005)
    late = [e.period_s for e in evidence if e.repeating and e.time_s > stream.rep_ends[3]]
    assert np.median(late) == pytest.approx(1.5, rel=0.08)


def test_a_still_lead_in_whose_frames_repeat_does_not_slow_the_sampling_grid() -> None:
    # A clip that opens on a still picture: most of its first frames repeat the one before and carry
    # no features (ticked), then fast reps of 5 frames at 30 frames/s. The grid must stay at 30 frames/s.
    stream = exercise(30, 1 / 6, fps=30.0, lead_s=0.0, tail_s=0.0)
    clip = ClipEvidence()
    for i in range(40):  # 1.3 s still: only every third frame is new
        t = i / 30.0
        if i % 3:
            clip.tick(t)
        else:
            clip.update(t, np.zeros_like(stream.fields[0]).ravel(), 0.99)
    for t, p, field in zip(stream.times, stream.probabilities, stream.fields):
        clip.update(40 / 30.0 + t, field.ravel(), float(p[1]))
    evidence = clip.finish()
    assert clip.frame_s == pytest.approx(1 / 30.0, rel=0.02)
    late = [e.period_s for e in evidence if e.repeating and e.time_s > 40 / 30.0 + stream.rep_ends[5]]
    assert np.median(late) == pytest.approx(1 / 6, rel=0.1)


def test_a_webcam_that_alternates_one_and_two_frames_apart_is_sampled_at_its_mean_rate() -> None:
    # A 15 frames/s camera read at 10 ticks a second: frames come 67 and 133 ms apart in turn.
    stream = exercise(10, 1.5, fps=15.0)
    clip = ClipEvidence()
    for i, (t, p, field) in enumerate(zip(stream.times, stream.probabilities, stream.fields)):
        if i % 3 != 2:
            clip.update(t, field.ravel(), float(p[1]))
    clip.finish()
    assert clip.frame_s == pytest.approx(0.1, rel=0.06)  # the first 8 frames: 4 short intervals, 3 long


def test_a_period_between_lags_is_not_outranked_by_its_double() -> None:
    # Jumping jacks at a webcam's 10 frames/s (the pooled profile of a real set): a rep is about 10.5
    # samples, so its peak is sampled off its top at lags 10 and 11 (0.62, 0.64), while two reps fall on
    # lag 21 (0.87), more than `near` higher. Judged by its height between lags, the rep is chosen.
    from flowrep.similarity import Peaks, _shortest_near_best

    profile = np.array(
        [
            1.00,
            0.19,
            -0.41,
            -0.49,
            -0.01,
            0.31,
            0.23,
            -0.28,
            -0.52,
            -0.13,
            0.62,
            0.64,
            -0.12,
            -0.52,
            -0.28,
            0.22,
            0.32,
            -0.00,
            -0.46,
            -0.39,
            0.19,
            0.87,
            0.23,
            -0.36,
            -0.47,
            -0.02,
            0.29,
            0.21,
            -0.28,
            -0.51,
        ]
    )
    assert _shortest_near_best(*Peaks(profile[None], shortest_lag=2).row(0), near=0.2) == 11


def test_a_pools_means_after_pushes_it_has_not_made_are_those_it_would_have() -> None:
    # A live count re-reads the samples still waiting by pooling their contexts in one pass
    # (`Pool.means_after`); it must give exactly the means that pushing them one by one gives, a
    # partial ring, profiles with gaps (NaN) and the end-of-stream empty profiles included.
    rng = np.random.default_rng(3)
    lags, length = 12, 5
    profiles = rng.normal(size=(14, lags))
    profiles[rng.random(profiles.shape) < 0.2] = np.nan
    profiles[-4:] = np.nan
    weights = np.where(rng.random(profiles.shape) < 0.3, 0.1, 1.0)
    for held in (0, 3, 9):
        pool = Pool(length, lags)
        for profile in rng.normal(size=(held, lags)):
            pool.push(profile, rng.choice([0.1, 1.0], lags))
        expected = []
        one_by_one = copy.deepcopy(pool)
        for profile, weight in zip(profiles, weights):
            one_by_one.push(profile, weight)
            expected.append(one_by_one.mean())
        before = pool.mean()
        for first in (0, 6):
            assert np.array_equal(pool.means_after(profiles, weights, first), expected[first:], equal_nan=True)
        assert np.array_equal(pool.mean(), before, equal_nan=True)  # the pool itself is left as it was
