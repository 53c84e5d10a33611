"""The framing that shows the CNN a person who is small in the picture at the size it was trained on.

Owns the choice, live, of a crop of the frame around where the picture has moved (`MotionFraming`),
and cutting it out (`crop`); flowrep.flow computes the crop's flow for the CNN.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Longer side of the map of where the picture moves, from which the framing is chosen.
FRAMING_MAP_SIZE = 32
#: How often (seconds of stream) the framing reconsiders its crop.
_FRAMING_DECISION_S = 0.2

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame's width and height


class MotionFraming:
    """Chooses, live, a crop of the frame around where it has moved over the last few seconds.

    At 128 px a person a fifth of the frame tall is a few flow blocks, and the CNN was trained on
    figures filling a third of the frame or more. When the motion keeps to a small region, the
    CNN's flow is computed on a crop around it instead (same aspect as the frame, at most
    `max_zoom` times closer); the counter's own view of the motion stays the whole frame.

    The crop follows the long-run motion, not each frame's: it is centred on where the motion has
    been, spans `margin` times its extent, and changes only when a different crop has been called
    for, steadily, for `hold_s` (each change restarts the crop's flow).
    """

    def __init__(
        self,
        time_constant_s: float = 3.0,
        warm_up_s: float = 1.5,
        margin: float = 1.5,
        min_zoom: float = 1.4,
        keep_zoom: float = 1.2,
        max_zoom: float = 2.5,
        hold_s: float = 1.0,
        min_change: float = 0.05,
    ) -> None:
        self.time_constant_s = time_constant_s
        self.warm_up_s = warm_up_s
        self.margin = margin
        self.min_zoom = min_zoom  # a crop starts only if it brings the motion at least this much closer
        self.keep_zoom = keep_zoom  # and lasts while it still brings it this much closer
        self.max_zoom = max_zoom
        self.hold_s = hold_s
        self.min_change = min_change  # grey levels a frame, mean over the map: less is no motion
        self.reset()

    def reset(self) -> None:
        self._change: np.ndarray | None = None  # running mean of the frame differences, on a small map
        self._seen_s = 0.0
        self._decided_s = 0.0
        self.box: Box | None = None  # None: the whole frame
        self._wanted_since_s: float | None = None

    def update(self, change: np.ndarray, dt: float) -> Box | None:
        """Feeds how much each pixel changed since the last frame (|grey difference|, 0–255) and
        the time since; returns the crop to use from this frame on (None: the whole frame).

        Frame differences, not flow: DIS spreads a moving person's flow over the plain wall
        around them, while a difference stays where the picture changed."""
        height, width = change.shape[:2]
        scale = FRAMING_MAP_SIZE / max(width, height)
        size = (max(2, round(width * scale)), max(2, round(height * scale)))
        small = cv2.resize(change, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        if self._change is None:
            self._change = small
        else:
            cv2.accumulateWeighted(small, self._change, min(1.0, dt / self.time_constant_s))
        self._seen_s += dt
        if self._seen_s - self._decided_s < _FRAMING_DECISION_S:  # the framing is slow; so is the decision
            return self.box
        self._decided_s = self._seen_s
        wanted = self._wanted_box()
        if _same_framing(wanted, self.box):
            self._wanted_since_s = None
        elif self._wanted_since_s is None:
            self._wanted_since_s = self._seen_s
        elif self._seen_s - self._wanted_since_s >= self.hold_s:
            self.box, self._wanted_since_s = wanted, None
        return self.box

    def _wanted_box(self) -> Box | None:
        if self._change is None or self._seen_s < self.warm_up_s:
            return None
        # What changes everywhere (camera shake, noise, light) frames nothing: only change above the median counts.
        energy = np.maximum(0.0, self._change - float(np.median(self._change)))
        if float(energy.mean()) < self.min_change:
            return None
        (x_lo, x_hi), (y_lo, y_hi) = _extent(energy.sum(axis=0)), _extent(energy.sum(axis=1))
        zoom = min(self.max_zoom, 1 / (self.margin * max(x_hi - x_lo, y_hi - y_lo, 1e-6)))
        if zoom < (self.min_zoom if self.box is None else self.keep_zoom):
            return None
        side = 1 / zoom
        x0 = float(np.clip(0.5 * (x_lo + x_hi) - side / 2, 0.0, 1.0 - side))
        y0 = float(np.clip(0.5 * (y_lo + y_hi) - side / 2, 0.0, 1.0 - side))
        return x0, y0, x0 + side, y0 + side


def _extent(mass: np.ndarray, share: float = 0.9) -> tuple[float, float]:
    """Where the central `share` of a 1-D mass lies, as fractions of its length."""
    cumulative = np.r_[0.0, np.cumsum(mass)] / max(float(mass.sum()), 1e-12)
    edges = np.linspace(0.0, 1.0, len(mass) + 1)
    tail = (1 - share) / 2
    lo, hi = np.interp([tail, 1 - tail], cumulative, edges)
    return float(lo), float(hi)


def _same_framing(a: Box | None, b: Box | None, tolerance: float = 0.25) -> bool:
    """Two crops close enough that changing from one to the other is not worth a flow restart:
    zoom within 25 % and centres apart by less than a quarter of the crop."""
    if a is None or b is None:
        return a is b
    side_a, side_b = a[2] - a[0], b[2] - b[0]
    if max(side_a, side_b) / min(side_a, side_b) > 1 + tolerance:
        return False
    shift = max(abs((a[0] + a[2]) - (b[0] + b[2])), abs((a[1] + a[3]) - (b[1] + b[3]))) / 2
    return shift < tolerance * min(side_a, side_b)


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The part of an image inside `box` (at least one pixel each way), as a view."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    return image[
        round(y0 * height) : max(round(y1 * height), round(y0 * height) + 1),
        round(x0 * width) : max(round(x1 * width), round(x0 * width) + 1),
    ]
