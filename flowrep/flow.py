"""Dense optical flow between consecutive frames, and its colour coding.

Owns: turning a frame into the small grey image flow is computed on (aspect ratio kept; a dim pair
of frames brightened by one gain), the flow backends (DIS by default, also run backwards for the
counter's coarse field; Farnebäck as in the article), the fixed-scale HSV coding (hue = direction,
brightness = speed) that the CNN and the screens see; the flow of the crop that flowrep.framing
picks for a person small in the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from .framing import Box, MotionFraming, crop

FlowMethod = Literal["dis", "farneback"]

#: Longer side, in pixels, of the grey frame that flow is computed on.
DEFAULT_FLOW_SIZE = 128
#: Shortest side, in pixels, of any flow grid: OpenCV's DIS crashes the process on thinner ones (128×28).
MIN_FLOW_SIDE = 32
#: Side of the coarse grid of block-mean flow that the counter compares cycles with.
COARSE_GRID = 6
#: Speed (in frame diagonals per second) shown at full brightness. Fixed, never per frame, so
#: that sensor noise on a still frame stays dark.
FULL_BRIGHTNESS_SPEED = 0.6
#: Mean absolute grey difference (0–255) below which a frame repeats the one before it. Frame-rate
#: conversion and phone encoders repeat frames (up to a third of them in some clips); a repeat is no
#: evidence of stillness, and reading it as "still" breaks up fast movements.
REPEAT_LEVEL = 0.3
#: Consecutive repeats skipped at most: after that a motionless scene is stillness, and is fed as such.
MAX_SKIPPED_REPEATS = 2
#: Two frames compared whose brightest parts (the 99th percentile of the brighter one) are darker
#: than this are both brightened, by one gain, until they reach it: a dim room's motion otherwise
#: reads weaker, and slow moves there pass for repeated frames. Mid-grey, set once and not tuned: no
#: frame `flowrep train` renders is that dark (the darkest: 142), so the weights are what they were,
#: and no count of ../shared/data changed, as files or on the webcam (docs/experiments.md, session 21).
DIM_TOP = 128


def flow_shape(width: int, height: int, long_side: int = DEFAULT_FLOW_SIZE) -> tuple[int, int]:
    """(width, height) of the flow grid for a frame, longer side = long_side, aspect kept (but no side
    under MIN_FLOW_SIDE, whatever the frame: the video limits keep real clips well inside it)."""
    scale = long_side / max(width, height)
    return max(MIN_FLOW_SIDE, round(width * scale)), max(MIN_FLOW_SIDE, round(height * scale))


def to_small_grey(frame_bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = frame_bgr if frame_bgr.ndim == 2 else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def bright_top(grey: np.ndarray) -> int:
    """The grey level of a frame's brightest parts: its 99th percentile."""
    rank = int(0.99 * (grey.size - 1))
    return int(np.partition(grey, rank, axis=None)[rank])


def lifted(grey: np.ndarray, top: int) -> np.ndarray:
    """`grey` times the gain that takes `top` to DIM_TOP, if `top` is under it (a gain, no offset:
    differences keep their proportions); otherwise `grey` as it is."""
    return grey if top >= DIM_TOP else cv2.convertScaleAbs(grey, alpha=DIM_TOP / max(top, 16))


class FlowEstimator:
    """Computes flow from the previous frame to the current one, one frame at a time.

    With skip_repeats, a frame that repeats the previous one gives no flow (None, with `repeated`
    set) and the next frame is compared with the last one that differed. With `backward`, it also
    measures the flow from the current frame back to the previous one (`self.backward`).
    """

    def __init__(
        self,
        method: FlowMethod = "dis",
        long_side: int = DEFAULT_FLOW_SIZE,
        skip_repeats: bool = True,
        backward: bool = False,
    ) -> None:
        if method not in ("dis", "farneback"):
            raise ValueError(f"unknown flow method {method!r} (use 'dis' or 'farneback')")
        self.method = method
        self.long_side = long_side
        self._dis = (
            cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)  # type: ignore[attr-defined]  # not in the stubs
            if method == "dis"
            else None
        )
        self.skip_repeats = skip_repeats
        self._previous: tuple[np.ndarray, int] | None = None  # the last frame that differed, and its bright_top
        self._repeats = 0
        self.repeated = False  # the last frame repeated the one before it
        self.size: tuple[int, int] | None = None
        self.difference: np.ndarray | None = None  # |grey change| behind the last flow, 0–255
        self.measure_backward = backward
        self.backward: np.ndarray | None = None  # the flow back from the last frame to the one before

    def reset(self) -> None:
        self._previous = None
        self._repeats = 0
        self.repeated = False
        self.size = None
        self.difference = None
        self.backward = None

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray | None:
        """Flow (H×W×2, pixels of the flow grid per frame) from the last frame, or None for the first."""
        height, width = frame_bgr.shape[:2]
        if self.size is None:
            self.size = flow_shape(width, height, self.long_side)
        small = to_small_grey(frame_bgr, self.size)
        top = bright_top(small)
        # One gain for both frames compared (a dim pair's), so that the gain itself changes nothing between them.
        pair_top = top if self._previous is None else max(top, self._previous[1])
        grey = lifted(small, pair_top)
        previous = None if self._previous is None else lifted(self._previous[0], pair_top)
        difference = None if previous is None else cv2.absdiff(grey, previous)
        self.repeated = (
            self.skip_repeats
            and difference is not None
            and self._repeats < MAX_SKIPPED_REPEATS
            and cv2.mean(difference)[0] < REPEAT_LEVEL
        )
        if self.repeated:
            self._repeats += 1
            return None
        self._repeats = 0
        self._previous, self.difference = (small, top), difference
        self.backward = None
        if previous is None:
            return None
        if self.measure_backward:
            self.backward = self._flow(grey, previous)
        return self._flow(previous, grey)

    def _flow(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        if self._dis is not None:
            return self._dis.calc(first, second, None)
        return cv2.calcOpticalFlowFarneback(first, second, None, 0.5, 3, 15, 3, 5, 1.2, 0)  # type: ignore[call-overload]  # flow=None is allowed


@dataclass(frozen=True)
class FlowScale:
    """Converts flow in grid pixels per frame into speed in frame diagonals per second."""

    diagonal_px: float
    seconds_per_frame: float

    @classmethod
    def of(cls, flow: np.ndarray, seconds_per_frame: float) -> FlowScale:
        """The scale of a flow field: its own grid's diagonal."""
        height, width = flow.shape[:2]
        return cls(float(np.hypot(width, height)), seconds_per_frame)

    def to_speed(self, flow: np.ndarray) -> np.ndarray:
        """Pixels a frame → frame diagonals a second (so speeds do not depend on resolution or frame rate)."""
        return flow / (self.diagonal_px * self.seconds_per_frame)


def colour_code(flow: np.ndarray, scale: FlowScale, full_speed: float = FULL_BRIGHTNESS_SPEED) -> np.ndarray:
    """BGR uint8 image: hue = direction of motion, brightness = speed on a fixed scale.

    Image coordinates: hue 0 (red) = moving right, a quarter turn = moving down.
    """
    velocity = scale.to_speed(flow)
    magnitude, angle = cv2.cartToPolar(velocity[..., 0], velocity[..., 1])
    hsv = np.empty(flow.shape[:2] + (3,), np.uint8)
    hsv[..., 0] = (angle * (90 / np.pi)).astype(np.uint8)  # 0..2π → 0..180 (OpenCV hue)
    hsv[..., 1] = 255
    hsv[..., 2] = np.minimum(255.0, np.sqrt(magnitude / full_speed) * 255.0).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


class MotionAxis:
    """Running principal axis of the frame-mean flow (a slow, exponentially weighted covariance).

    Rotating flow so that this axis points down lets the same down/still/up classifier count
    motion along any axis (sit-ups filmed from the side, sawing, a phone held sideways). The
    prior favours the vertical, so a clip with little motion keeps plain up and down.
    """

    def __init__(self, time_constant_s: float = 4.0, prior: float = 1e-4) -> None:
        self.time_constant_s = time_constant_s
        self._cov = np.array([[0.5, 0.0], [0.0, 1.0]]) * prior
        self.axis = np.array([0.0, 1.0])  # unit vector, image coordinates, pointing "down"

    def update(self, mean_velocity: np.ndarray, dt: float) -> np.ndarray:
        weight = min(1.0, dt / self.time_constant_s)
        self._cov = (1 - weight) * self._cov + weight * np.outer(mean_velocity, mean_velocity)
        _, vectors = np.linalg.eigh(self._cov)
        axis = vectors[:, 1]
        if axis @ self.axis < 0:  # eigenvectors have no sign: keep the one nearest the last
            axis = -axis
        self.axis = axis
        return axis


def align_to_axis(flow: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Rotates flow vectors (not the image) so that motion along `axis` reads as straight down."""
    ux, uy = float(axis[0]), float(axis[1])
    rotation = np.array([[uy, -ux], [ux, uy]], np.float32)
    return flow @ rotation.T


def _coarse(flow: np.ndarray) -> np.ndarray:
    """Block means of a flow field on the COARSE_GRID × COARSE_GRID grid."""
    return cv2.resize(flow, (COARSE_GRID, COARSE_GRID), interpolation=cv2.INTER_AREA)


def _symmetric_coarse(forward: np.ndarray, backward: np.ndarray | None) -> np.ndarray:
    """The coarse field of the mean of the forward flow and the backward one reversed. Across frames
    far apart (a webcam's 0.1 s) DIS on its one pyramid level reads a motion differently each way, and
    the mean keeps a cell's pattern more alike from one cycle to the next, which is what the repetition
    evidence compares (docs/experiments.md, session 20). The CNN keeps the forward flow it was trained on."""
    return _coarse(forward if backward is None else 0.5 * (forward - backward))


@dataclass(frozen=True)
class EncodedFlow:
    display_bgr: np.ndarray  # true directions, for people
    aligned_bgr: np.ndarray  # rotated onto the motion axis, for the CNN
    mean_velocity: np.ndarray  # frame-mean flow, diagonals per second, image coordinates
    axis: np.ndarray
    coarse_field: np.ndarray  # COARSE_GRID×COARSE_GRID×2 block means of the symmetric flow, diagonals per second
    mean_speed: float  # mean flow speed over the frame, whatever the direction, diagonals per second
    crop: Box | None = None  # the part of the frame the CNN's image shows (None: all of it)


class FlowEncoder:
    """Frame in, colour-coded flow out: the one path shared by inference and training.

    With `framing`, the image for the CNN comes from a second flow, computed on the crop that
    `MotionFraming` picks when the motion keeps to a small part of the picture. Training turns it
    off: a rendered figure is framed by construction, and its labels are in whole-frame units.
    """

    def __init__(
        self,
        method: FlowMethod = "dis",
        long_side: int = DEFAULT_FLOW_SIZE,
        skip_repeats: bool = True,
        framing: bool = True,
    ) -> None:
        # The counter's field is DIS's both ways (`_symmetric_coarse`); Farnebäck's pyramid counted worse so
        # (exercise 0.167 -> 0.700, QUVA 0.160 -> 0.178, session 20) and keeps its forward flow.
        self.estimator = FlowEstimator(method, long_side, skip_repeats, backward=method == "dis")
        self.axis = MotionAxis()
        self._skipped_dt = 0.0
        self.framing = MotionFraming() if framing else None
        self._crop_estimator = FlowEstimator(method, long_side, skip_repeats=False)
        self._crop_box: Box | None = None

    @property
    def repeated(self) -> bool:
        """The last frame repeated the one before it: it gave no flow, and its time carries over."""
        return self.estimator.repeated

    def __call__(self, frame_bgr: np.ndarray, dt: float) -> EncodedFlow | None:
        """The flow since the last frame that differed (dt seconds ago, plus any repeats' time);
        None for the first frame of a stream and for a repeated frame."""
        grey = frame_bgr if frame_bgr.ndim == 2 else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        flow = self.estimator(grey)
        if flow is None:
            self._skipped_dt = self._skipped_dt + dt if self.repeated else 0.0
            if not self.repeated:  # the crop's flow starts from this frame too
                self._framed_flow(grey, None if self.framing is None else self.framing.box)
            return None
        dt, self._skipped_dt = dt + self._skipped_dt, 0.0
        scale = FlowScale.of(flow, max(dt, 1e-3))
        coarse = scale.to_speed(_coarse(flow))
        mean_velocity = coarse.reshape(-1, 2).mean(axis=0).astype(np.float64)
        axis = self.axis.update(mean_velocity, dt)
        difference = self.estimator.difference
        box = None if self.framing is None or difference is None else self.framing.update(difference, dt)
        framed = self._framed_flow(grey, box)
        cnn_flow, cnn_scale = (
            (flow, scale) if framed is None else (framed, FlowScale.of(framed, scale.seconds_per_frame))
        )
        return EncodedFlow(
            display_bgr=colour_code(flow, scale),
            aligned_bgr=colour_code(align_to_axis(cnn_flow, axis), cnn_scale),
            mean_velocity=mean_velocity,
            axis=axis.copy(),
            coarse_field=scale.to_speed(_symmetric_coarse(flow, self.estimator.backward)),
            mean_speed=float(scale.to_speed(np.array(cv2.mean(cv2.magnitude(flow[..., 0], flow[..., 1]))[0]))),
            crop=self._crop_box if framed is not None else None,
        )

    def _framed_flow(self, grey: np.ndarray, box: Box | None) -> np.ndarray | None:
        """The flow inside `box` since the last frame, or None (no crop, or a crop that starts now)."""
        if box != self._crop_box:
            self._crop_box = box
            self._crop_estimator.reset()
        if box is None:
            return None
        return self._crop_estimator(crop(grey, box))  # a view: OpenCV reads it in place

    def reset(self) -> None:
        """A new stream: no previous frame, and the motion axis back to vertical."""
        self.estimator.reset()
        self.axis = MotionAxis()
        self._skipped_dt = 0.0
        if self.framing is not None:
            self.framing.reset()
        self._crop_box = None
        self._crop_estimator.reset()

    def restart_flow(self) -> None:
        """The same stream after a gap: the next frame starts the flow afresh, the axis and the
        framing are kept."""
        self.estimator.reset()
        self._crop_estimator.reset()
        self._skipped_dt = 0.0
