"""Probability sources: what turns one frame's encoded flow into P(down), P(still), P(up).

The product counts with the CNN. The hand-made source (the sign of the mean flow along the motion
axis, with a dead zone for noise) drives the very same counter, so the benchmark can show what
the CNN adds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from .flow import EncodedFlow
from .model import DEFAULT_WEIGHTS, Classifier

ProbabilitySource = Callable[[EncodedFlow], np.ndarray]
SignalName = Literal["cnn", "mean-flow"]


class CnnSignal:
    def __init__(self, weights: Path | str = DEFAULT_WEIGHTS) -> None:
        self.classifier = Classifier(weights)

    def __call__(self, encoded: EncodedFlow) -> np.ndarray:
        return self.classifier(encoded.aligned_bgr)


class MeanFlowSignal:
    """Down / up when the frame-mean flow along the motion axis exceeds a small fixed speed."""

    def __init__(self, dead_zone: float = 0.004) -> None:
        self.dead_zone = dead_zone  # diagonals per second

    def __call__(self, encoded: EncodedFlow) -> np.ndarray:
        along = float(encoded.mean_velocity @ encoded.axis)
        if along > self.dead_zone:
            return np.array([1.0, 0.0, 0.0])
        if along < -self.dead_zone:
            return np.array([0.0, 0.0, 1.0])
        return np.array([0.0, 1.0, 0.0])


def make_signal(name: SignalName = "cnn", weights: Path | str = DEFAULT_WEIGHTS) -> ProbabilitySource:
    if name == "cnn":
        return CnnSignal(weights)
    if name == "mean-flow":
        return MeanFlowSignal()
    raise ValueError(f"unknown signal {name!r} (use 'cnn' or 'mean-flow')")
