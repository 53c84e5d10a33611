"""Flow and its colour coding: direction as hue, speed as brightness on a fixed scale."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from flowrep.flow import (FULL_BRIGHTNESS_SPEED, FlowEncoder, FlowEstimator, FlowScale, MotionAxis,
                          align_to_axis, colour_code, flow_shape)

SCALE = FlowScale(diagonal_px=100.0, seconds_per_frame=1 / 25)


def uniform_flow(dx: float, dy: float, shape=(48, 64)) -> np.ndarray:
    flow = np.zeros(shape + (2,), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return flow


def hue_of(bgr: np.ndarray) -> float:
    return float(cv2.cvtColor(bgr[:1, :1], cv2.COLOR_BGR2HSV)[0, 0, 0]) * 2  # degrees


def test_still_is_black() -> None:
    assert colour_code(uniform_flow(0, 0), SCALE).max() == 0


@pytest.mark.parametrize("dx,dy,degrees", [(1, 0, 0), (0, 1, 90), (-1, 0, 180), (0, -1, 270)])
def test_hue_gives_the_direction(dx: float, dy: float, degrees: float) -> None:
    assert hue_of(colour_code(uniform_flow(dx, dy), SCALE)) == pytest.approx(degrees, abs=3)


def test_brightness_is_a_fixed_scale_not_per_frame() -> None:
    slow = uniform_flow(0, 0.2)
    mixed = slow.copy()
    mixed[:10] = (0, 3.0)  # a fast region elsewhere must not dim the slow one
    assert colour_code(slow, SCALE)[40, 40].max() == colour_code(mixed, SCALE)[40, 40].max()
    faster = colour_code(uniform_flow(0, 0.4), SCALE)[0, 0].max()
    assert faster > colour_code(slow, SCALE)[0, 0].max()


def test_noise_level_motion_stays_dark_and_full_speed_is_full_brightness() -> None:
    px_per_frame = FULL_BRIGHTNESS_SPEED * SCALE.diagonal_px * SCALE.seconds_per_frame
    assert colour_code(uniform_flow(0, px_per_frame), SCALE).max() == 255
    assert colour_code(uniform_flow(0, 0.002 * px_per_frame), SCALE).max() < 30


def test_flow_grid_keeps_the_aspect_ratio() -> None:
    assert flow_shape(1280, 720, 128) == (128, 72)
    assert flow_shape(360, 640, 128) == (72, 128)


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_estimator_sees_a_texture_moving_down(method: str) -> None:
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (300, 300), dtype=np.uint8), (7, 7), 0)
    estimator = FlowEstimator(method, long_side=128)
    first = cv2.cvtColor(texture[50:250, 50:250], cv2.COLOR_GRAY2BGR)
    second = cv2.cvtColor(texture[44:244, 50:250], cv2.COLOR_GRAY2BGR)  # content moves down 6 px
    assert estimator(first) is None
    flow = estimator(second)
    centre = flow[20:-20, 20:-20].reshape(-1, 2).mean(axis=0)
    assert centre[1] == pytest.approx(6 * 128 / 200, rel=0.3) and abs(centre[0]) < 0.5


def test_motion_axis_turns_to_sideways_motion_and_alignment_reads_it_as_down() -> None:
    axis = MotionAxis(time_constant_s=1.0)
    for i in range(200):
        axis.update(np.array([0.3 * np.sin(i / 5), 0.01]), 1 / 30)
    assert abs(axis.axis[0]) > 0.95
    aligned = align_to_axis(uniform_flow(*axis.axis), axis.axis)
    assert aligned[0, 0] == pytest.approx([0, 1], abs=1e-5)


def test_encoder_returns_both_codings_and_a_coarse_field() -> None:
    encoder = FlowEncoder()
    frame = np.zeros((90, 160, 3), np.uint8)
    assert encoder(frame, 0.04) is None
    encoded = encoder(frame + 20, 0.04)
    assert encoded.display_bgr.shape == (72, 128, 3) and encoded.aligned_bgr.shape == (72, 128, 3)
    assert encoded.coarse_field.shape == (6, 6, 2)


def _textured(shift: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    texture = cv2.resize(rng.integers(0, 256, (30, 40, 3)).astype(np.uint8), (200, 150),
                         interpolation=cv2.INTER_NEAREST)
    return np.roll(texture, shift, axis=0)


def test_mean_speed_counts_motion_in_any_direction_and_stillness_as_none() -> None:
    # Opposite motions cancel in the mean velocity but not in the mean speed.
    encoder = FlowEncoder()
    encoder(_textured(0), 0.04)
    still = encoder(np.minimum(_textured(0), 254) + 1, 0.04)  # a tiny change of light, no motion
    moving = encoder(_textured(4), 0.04)
    halves = np.concatenate([_textured(8)[:75], _textured(0)[75:]])  # top moves down, bottom back up
    split = encoder(halves, 0.04)
    assert still.mean_speed < 0.01
    diagonal = float(np.hypot(200, 150))
    assert moving.mean_speed == pytest.approx(4 / diagonal / 0.04, rel=0.25)
    assert split.mean_speed > 0.5 * moving.mean_speed
    assert abs(split.mean_velocity[1]) < 0.5 * split.mean_speed


def test_a_repeated_frame_gives_no_flow_and_the_next_one_spans_both_intervals() -> None:
    # Frame-rate conversion repeats frames: the repeat is no evidence of stillness.
    with_repeat, without = FlowEncoder(), FlowEncoder()
    assert with_repeat(_textured(0), 0.04) is None and without(_textured(0), 0.04) is None
    assert with_repeat(_textured(0), 0.04) is None and with_repeat.repeated
    after_repeat = with_repeat(_textured(6), 0.04)
    direct = without(_textured(6), 0.08)
    assert not with_repeat.repeated
    assert after_repeat.mean_velocity == pytest.approx(direct.mean_velocity, rel=1e-4)
    assert after_repeat.mean_velocity[1] > 0.1  # moving down, at the speed of 6 px over two intervals


def test_a_motionless_scene_is_still_read_after_a_couple_of_repeats() -> None:
    encoder = FlowEncoder()
    readings = [encoder(_textured(0), 0.04) for _ in range(8)]
    assert readings[0] is None
    fed = [r for r in readings[1:] if r is not None]
    assert len(fed) >= 2  # stillness still reaches the counter, at least every third frame
    assert all(abs(r.mean_velocity).max() < 1e-3 for r in fed)
