"""Dense optical flow between consecutive frames, and its colour coding.

Owns: turning a frame into the small grey image flow is computed on (aspect ratio kept), the
flow backends (DIS by default, Farnebäck as in the article), and the fixed-scale HSV coding
(hue = direction, brightness = speed) that the CNN and the screens see.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

FlowMethod = Literal["dis", "farneback"]

#: Longer side, in pixels, of the grey frame that flow is computed on.
DEFAULT_FLOW_SIZE = 128
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


def flow_shape(width: int, height: int, long_side: int = DEFAULT_FLOW_SIZE) -> tuple[int, int]:
    """(width, height) of the flow grid for a frame, longer side = long_side, aspect kept."""
    scale = long_side / max(width, height)
    return max(8, round(width * scale)), max(8, round(height * scale))


def to_small_grey(frame_bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = frame_bgr if frame_bgr.ndim == 2 else cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


class FlowEstimator:
    """Computes flow from the previous frame to the current one, one frame at a time.

    With skip_repeats, a frame that repeats the previous one gives no flow (None, with `repeated`
    set) and the next frame is compared with the last one that differed.
    """

    def __init__(self, method: FlowMethod = "dis", long_side: int = DEFAULT_FLOW_SIZE,
                 skip_repeats: bool = True) -> None:
        if method not in ("dis", "farneback"):
            raise ValueError(f"unknown flow method {method!r} (use 'dis' or 'farneback')")
        self.method = method
        self.long_side = long_side
        self._dis = (
            cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST) if method == "dis" else None
        )
        self.skip_repeats = skip_repeats
        self._previous: np.ndarray | None = None
        self._repeats = 0
        self.repeated = False  # the last frame repeated the one before it
        self.size: tuple[int, int] | None = None

    def reset(self) -> None:
        self._previous = None
        self._repeats = 0
        self.repeated = False
        self.size = None

    def _is_repeat(self, grey: np.ndarray) -> bool:
        if not self.skip_repeats or self._previous is None or self._repeats >= MAX_SKIPPED_REPEATS:
            return False
        return cv2.mean(cv2.absdiff(grey, self._previous))[0] < REPEAT_LEVEL

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray | None:
        """Flow (H×W×2, pixels of the flow grid per frame) from the last frame, or None for the first."""
        height, width = frame_bgr.shape[:2]
        if self.size is None:
            self.size = flow_shape(width, height, self.long_side)
        grey = to_small_grey(frame_bgr, self.size)
        self.repeated = self._is_repeat(grey)
        if self.repeated:
            self._repeats += 1
            return None
        self._repeats = 0
        previous, self._previous = self._previous, grey
        if previous is None:
            return None
        if self._dis is not None:
            return self._dis.calc(previous, grey, None)
        return cv2.calcOpticalFlowFarneback(previous, grey, None, 0.5, 3, 15, 3, 5, 1.2, 0)


@dataclass(frozen=True)
class FlowScale:
    """Converts flow in grid pixels per frame into speed in frame diagonals per second."""

    diagonal_px: float
    seconds_per_frame: float

    def to_speed(self, flow: np.ndarray | float) -> np.ndarray | float:
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


@dataclass(frozen=True)
class EncodedFlow:
    display_bgr: np.ndarray  # true directions, for people
    aligned_bgr: np.ndarray  # rotated onto the motion axis, for the CNN
    mean_velocity: np.ndarray  # frame-mean flow, diagonals per second, image coordinates
    axis: np.ndarray
    coarse_field: np.ndarray  # COARSE_GRID×COARSE_GRID×2 block means of the flow, diagonals per second
    mean_speed: float  # mean flow speed over the frame, whatever the direction, diagonals per second


class FlowEncoder:
    """Frame in, colour-coded flow out: the one path shared by inference and training."""

    def __init__(self, method: FlowMethod = "dis", long_side: int = DEFAULT_FLOW_SIZE,
                 skip_repeats: bool = True) -> None:
        self.estimator = FlowEstimator(method, long_side, skip_repeats)
        self.axis = MotionAxis()
        self._skipped_dt = 0.0

    @property
    def repeated(self) -> bool:
        """The last frame repeated the one before it: it gave no flow, and its time carries over."""
        return self.estimator.repeated

    def __call__(self, frame_bgr: np.ndarray, dt: float) -> EncodedFlow | None:
        """The flow since the last frame that differed (dt seconds ago, plus any repeats' time);
        None for the first frame of a stream and for a repeated frame."""
        flow = self.estimator(frame_bgr)
        if flow is None:
            self._skipped_dt = self._skipped_dt + dt if self.repeated else 0.0
            return None
        dt, self._skipped_dt = dt + self._skipped_dt, 0.0
        height, width = flow.shape[:2]
        scale = FlowScale(float(np.hypot(width, height)), max(dt, 1e-3))
        coarse = scale.to_speed(cv2.resize(flow, (COARSE_GRID, COARSE_GRID), interpolation=cv2.INTER_AREA))
        mean_velocity = coarse.reshape(-1, 2).mean(axis=0).astype(np.float64)
        axis = self.axis.update(mean_velocity, dt)
        return EncodedFlow(
            display_bgr=colour_code(flow, scale),
            aligned_bgr=colour_code(align_to_axis(flow, axis), scale),
            mean_velocity=mean_velocity,
            axis=axis.copy(),
            coarse_field=coarse,
            mean_speed=float(scale.to_speed(cv2.mean(cv2.magnitude(flow[..., 0], flow[..., 1]))[0])),
        )

    def reset(self) -> None:
        """A new stream: no previous frame, and the motion axis back to vertical."""
        self.estimator.reset()
        self.axis = MotionAxis()
        self._skipped_dt = 0.0

    def restart_flow(self) -> None:
        """The same stream after a gap: the next frame starts the flow afresh, the axis is kept."""
        self.estimator.reset()
        self._skipped_dt = 0.0
