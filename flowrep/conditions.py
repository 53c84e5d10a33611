"""Camera conditions a clip can be counted under, as frame transforms (`video.FrameTransform`): a
browser webcam's delivery (its frame rate, size, JPEG and timestamp jitter), the camera's frame rate
alone, a camera farther away, a camera that films the still scene before and after the set, and a
person who pauses between reps.

Owns the simulations behind `flowrep bench --webcam`, `--farther`, `--still` and `--pause`, so that a folder of
clips recorded one way measures how counts hold up when the same motion arrives another way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain

import cv2
import numpy as np

from .video import Frame, FrameTransform

#: Grey of the plain frame around a picture shrunk by `farther_camera`.
_SURROUND_GREY = 90

#: Grey levels of a still camera's noise (its standard deviation): a still scene is never filmed as
#: the same picture twice, so held frames are not taken for repeats of one frame.
_CAMERA_NOISE = 2.0

#: Frames a second the page's camera sends (Gradio's `stream_every` is its inverse). The live counter
#: was chosen and is measured at this rate (`flowrep bench --webcam`); at a clip's 25–30 frames/s it
#: is not (docs/experiments.md, session 18), so a live session counts at most this many frames a
#: second (`pipeline.Session`) and skips the rest.
CAMERA_FPS = 10.0


class Ticks:
    """Which frames of a stream a reader that takes one `fps` times a second takes: the first frame at
    or after each tick, or up to `early_s` before it (a stream already at about `fps`, whose frames
    arrive a little early or late, loses none). A frame that comes late moves the ticks after it, so a
    stream never gets more than `fps` frames a second on average, nor a burst to catch up."""

    def __init__(self, fps: float, early_s: float = 0.0) -> None:
        self.tick = 1.0 / fps
        self.early_s = early_s
        self._due = 0.0

    def take(self, time_s: float) -> bool:
        """Whether the frame at `time_s` (increasing from call to call) is taken."""
        if time_s + self.early_s + 1e-6 < self._due:
            return False
        self._due = max(self._due + self.tick, time_s + 0.5 * self.tick)
        return True


def camera_rate(fps: float = CAMERA_FPS) -> FrameTransform:
    """A frame transform: the frames a camera read `fps` times a second delivers, the first frame at
    each tick (a clip's frames skipped between ticks, nothing else changed)."""

    def transform(frames: Iterable[Frame]) -> Iterator[Frame]:
        ticks = Ticks(fps)
        return (frame for frame in frames if ticks.take(frame.time_s))

    return transform


def farther_camera(factor: float) -> FrameTransform:
    """A frame transform: each picture shrunk `factor` times into the middle of a plain frame of the
    same size, as if the camera stood that many times as far away (a plain surround, no new scene)."""
    if factor < 1.0:
        raise ValueError(f"the camera can only move farther away (factor {factor} < 1)")

    def shrink(frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        small_w, small_h = max(1, round(width / factor)), max(1, round(height / factor))
        out = np.full_like(frame, _SURROUND_GREY)
        x0, y0 = (width - small_w) // 2, (height - small_h) // 2
        out[y0 : y0 + small_h, x0 : x0 + small_w] = cv2.resize(frame, (small_w, small_h), interpolation=cv2.INTER_AREA)
        return out

    def transform(frames: Iterable[Frame]) -> Iterator[Frame]:
        return (replace(frame, image=shrink(frame.image)) for frame in frames)

    return transform


def _held(image: np.ndarray, first_index: int, first_time_s: float, step_s: float, count: int) -> Iterator[Frame]:
    """`count` frames of one picture held still, `step_s` apart, each with a camera's noise."""
    noise = np.empty(image.shape, np.int16)
    for k in range(count):
        cv2.randn(noise, np.zeros(3), np.full(3, _CAMERA_NOISE))
        yield Frame(first_index + k, first_time_s + k * step_s, cv2.add(image, noise, dtype=cv2.CV_8U))


def _opening(stream: Iterator[Frame]) -> tuple[list[Frame], float]:
    """A stream's first two frames (fewer in a shorter one) and its frame interval from them."""
    opening = [frame for frame in (next(stream, None), next(stream, None)) if frame is not None]
    step = opening[1].time_s - opening[0].time_s if len(opening) == 2 else 1.0 / 30.0
    return opening, step


def still_edges(seconds: float, seed: int = 0) -> FrameTransform:
    """A frame transform: the clip's first picture held for `seconds` before it and its last picture
    held as long after it, at the clip's frame interval and with a camera's noise, as if filming
    began before the person started and ended after they stopped (most clips are cut to the set)."""
    if seconds < 0.0:
        raise ValueError(f"a still spell cannot last {seconds} s")

    def transform(frames: Iterable[Frame]) -> Iterator[Frame]:
        cv2.setRNGSeed(seed)  # the same clip always gets the same noise
        stream = iter(frames)
        opening, step = _opening(stream)
        if not opening:
            return
        held = round(seconds / step)
        yield from _held(opening[0].image, 0, 0.0, step, held)
        last = opening[0]
        for frame in chain(opening, stream):
            last = replace(frame, index=frame.index + held, time_s=frame.time_s - opening[0].time_s + held * step)
            yield last
        yield from _held(last.image, last.index + 1, last.time_s + step, step, held)

    return transform


def pauses_after(seconds: float, frame_indices: Iterable[int], seed: int = 0) -> FrameTransform:
    """A frame transform: the picture held for `seconds` after each of the given frames (the ends of
    a set's reps but its last), at the clip's frame interval and with a camera's noise, as if the
    person paused between reps; every frame after a pause comes that much later."""
    if seconds < 0.0:
        raise ValueError(f"a pause cannot last {seconds} s")
    after = frozenset(frame_indices)

    def transform(frames: Iterable[Frame]) -> Iterator[Frame]:
        cv2.setRNGSeed(seed)
        stream = iter(frames)
        opening, step = _opening(stream)
        held, added = round(seconds / step), 0
        for frame in chain(opening, stream):
            moved = replace(frame, index=frame.index + added * held, time_s=frame.time_s + added * held * step)
            yield moved
            if frame.index in after:
                yield from _held(moved.image, moved.index + 1, moved.time_s + step, step, held)
                added += 1

    return transform


@dataclass(frozen=True)
class WebcamConditions:
    """A clip's frames as a browser webcam delivers them to the page: about `fps` frames a second (the
    latest frame at each tick), the long side at most `long_side` pixels, JPEG-compressed at
    `jpeg_quality`, and timestamps that are arrival times, off by up to `jitter_s` either way. The
    same clip always gets the same jitter."""

    fps: float = CAMERA_FPS
    long_side: int = 640
    jpeg_quality: int = 70
    jitter_s: float = 0.015
    seed: int = 0

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        rng = np.random.default_rng(self.seed)
        last_t = -math.inf
        for frame in camera_rate(self.fps)(frames):
            time_s = max(last_t + 1e-3, frame.time_s + rng.uniform(-self.jitter_s, self.jitter_s))
            last_t = time_s
            yield replace(frame, time_s=time_s, image=self._deliver(frame.image))

    def _deliver(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        scale = self.long_side / max(height, width)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return jpeg_round_trip(image, self.jpeg_quality)


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """The image as a camera or browser that compresses to JPEG at `quality` would deliver it."""
    _, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    if decoded is None:
        raise ValueError("OpenCV could not decode a JPEG it had just encoded")
    return decoded
