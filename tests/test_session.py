"""The session (pipeline.Session) on made-up frames: a stream's frames it refuses, a gap and repeated
frames in a stream, and how many frames a second a live set counts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import bobbing_square

from flowrep.flow import EncodedFlow
from flowrep.pipeline import FrameError, Session
from flowrep.signals import MeanFlowSignal


def test_frames_that_change_size_mid_stream_are_refused() -> None:
    # Files decoded by OpenCV are rescaled to their first frame's size; a live source is not.
    session = Session("mean-flow")
    session.process(np.zeros((120, 160, 3), np.uint8), 0.0)
    with pytest.raises(FrameError, match="frame size changed from 160×120 to 320×240"):
        session.process(np.zeros((240, 320, 3), np.uint8), 0.04)


def test_a_gap_in_a_live_stream_keeps_the_count_and_adds_no_motion() -> None:
    session = Session("mean-flow")
    still = np.zeros((120, 160, 3), np.uint8)
    moved = still.copy()
    moved[20:80, 40:100] = 255  # compared with a stale frame this would be a huge motion
    session.process(still, 0.0)
    session.process(still, 0.1)
    after_gap = session.process(moved, 5.0)
    assert after_gap.flow_bgr is None and after_gap.probabilities.argmax() == 1
    later = [session.process(moved, 5.0 + 0.1 * k) for k in range(1, 4)]
    assert later[-1].flow_bgr is not None  # identical frames: two are skipped as repeats, then read as still
    assert all(r.flow_bgr is None or r.flow_bgr.max() == 0 for r in later)
    assert session.count == 0


def test_repeated_frames_keep_the_last_reading_and_change_no_count() -> None:
    # Frame-rate conversion repeats every few frames; a repeat must not read as a still frame.
    plain, with_repeats = Session("mean-flow", live=False), Session("mean-flow", live=False)
    frames = bobbing_square(reps=4)
    t = 0.0
    for i, frame in enumerate(frames):
        plain.process(frame, i / 25)
        first = with_repeats.process(frame, t)
        if i % 4 == 3:  # every fourth frame shown twice, as 25 → 31 fps conversion does
            repeat = with_repeats.process(frame.copy(), t + 0.02)
            if 25 <= i < 145:  # while the square moves (1 s still, 4 reps of 1.2 s)
                assert np.array_equal(repeat.probabilities, first.probabilities)
            t += 0.02
        t += 0.04
    plain.finish()
    with_repeats.finish()
    assert plain.count == with_repeats.count == 4


class CountingSignal(MeanFlowSignal):
    """The mean-flow signal, counting the frames it reads (a frame the session counts, less repeats)."""

    def __init__(self) -> None:
        super().__init__()
        self.frames = 0

    def __call__(self, encoded: EncodedFlow) -> np.ndarray:
        self.frames += 1
        return super().__call__(encoded)


def with_noise(frames: list[np.ndarray], seed: int = 0) -> list[np.ndarray]:
    """The frames with a little sensor noise, so that none is an exact repeat of the one before."""
    rng = np.random.default_rng(seed)
    return [np.clip(f.astype(np.int16) + rng.integers(-2, 3, f.shape), 0, 255).astype(np.uint8) for f in frames]


def test_a_live_set_counts_the_cameras_frames_a_second_however_fast_they_come() -> None:
    # The live counter was chosen at the page camera's 10 frames a second; fed every frame of a
    # 25-30 frames/s clip it counted a set's first reps in bursts (docs/experiments.md, session 18).
    # Wide, so that the square moves between two of the camera's frames no farther than the flow measures.
    frames = with_noise(bobbing_square(reps=4, fps=30.0, size=(320, 120)))
    fast_signal = CountingSignal()
    fast = Session(fast_signal)  # a client sending 30 frames a second
    for index, frame in enumerate(frames):
        fast.process(frame, index / 30.0)
    fast.finish()
    camera = Session("mean-flow")  # the page's camera: every third frame
    for index, frame in enumerate(frames[::3]):
        camera.process(frame, index / 10.0)
    camera.finish()
    assert fast.count == camera.count == 4
    assert fast_signal.frames <= len(frames) / 3  # the server did a 10 frames/s camera's work, no more

    # A camera at 10 frames a second whose frames arrive up to 20 ms early or late loses none.
    jittered_signal = CountingSignal()
    jittered = Session(jittered_signal)
    times = np.arange(len(frames[::3])) / 10.0 + np.random.default_rng(1).uniform(-0.02, 0.02, len(frames[::3]))
    for frame, time_s in zip(frames[::3], times):
        jittered.process(frame, float(time_s))
    jittered.finish()
    assert jittered_signal.frames == len(frames[::3]) - 1  # every frame but the first (no flow yet)
    assert jittered.count == 4
