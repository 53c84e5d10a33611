"""Flow and its colour coding: direction as hue, speed as brightness on a fixed scale."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from flowrep.flow import (
    DIM_TOP,
    FULL_BRIGHTNESS_SPEED,
    EncodedFlow,
    FlowEncoder,
    FlowEstimator,
    FlowScale,
    MotionAxis,
    align_to_axis,
    bright_top,
    colour_code,
    flow_shape,
    lifted,
)
from flowrep.framing import MotionFraming
from flowrep.pipeline import Session

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


def test_the_counters_field_is_the_flow_there_and_back_averaged() -> None:
    # The coarse field the repetition evidence compares is the mean of the forward flow and the
    # backward one reversed: a texture moving down reads down there, at the forward flow's speed.
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (300, 300), dtype=np.uint8), (7, 7), 0)
    first = cv2.cvtColor(texture[50:250, 50:250], cv2.COLOR_GRAY2BGR)
    second = cv2.cvtColor(texture[44:244, 50:250], cv2.COLOR_GRAY2BGR)  # content moves down 6 px
    shift_px = 6 * 128 / 200
    estimator = FlowEstimator("dis", long_side=128, backward=True)
    estimator(first)
    estimator(second)
    assert estimator.backward is not None
    back = estimator.backward[20:-20, 20:-20].reshape(-1, 2).mean(axis=0)
    assert back[1] == pytest.approx(-shift_px, rel=0.3) and abs(back[0]) < 0.5
    encoder = FlowEncoder("dis", framing=False)
    encoder(first, 0.1)
    field = encoder(second, 0.1).coarse_field[1:-1, 1:-1].reshape(-1, 2).mean(axis=0)
    speed = shift_px / (np.hypot(128, 128) * 0.1)  # frame diagonals per second
    assert field[1] == pytest.approx(speed, rel=0.3) and abs(field[0]) < 0.2 * speed


def test_measuring_the_flow_back_leaves_the_cnns_forward_flow_as_it_was() -> None:
    # The CNN was trained on the forward flow alone: the backward pass must not change it (the
    # bundled weights stay what `flowrep train` makes).
    rng = np.random.default_rng(1)
    frames = [cv2.GaussianBlur(rng.integers(0, 255, (180, 320, 3), dtype=np.uint8), (9, 9), 2) for _ in range(4)]
    forward_only, both_ways = FlowEstimator(backward=False), FlowEstimator(backward=True)
    flows = [(forward_only(frame), both_ways(frame)) for frame in frames]
    assert all(np.array_equal(a, b) for a, b in flows[1:]) and both_ways.backward is not None


def _moving_square(column: int, wall: int = 120) -> np.ndarray:
    """A textured 40 px square at `column` on a plain wall of grey level `wall` (a 320×180 grey frame)."""
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (40, 40), dtype=np.uint8), (0, 0), 1.5)
    frame = np.full((180, 320), wall, np.uint8)
    frame[70:110, column : column + 40] = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX)
    return frame


def test_in_a_dim_room_a_slow_move_is_motion_not_a_repeated_frame() -> None:
    # At 30 % of the light, 2 px steps change the picture a third as much, and passed for repeats of
    # the frame before (no flow), until both frames compared were brightened.
    for light in (1.0, 0.3):
        estimator = FlowEstimator()
        flows = [estimator(cv2.convertScaleAbs(_moving_square(100 + 2 * k), alpha=light)) for k in range(4)]
        assert all(flow is not None for flow in flows[1:]), light
        assert estimator.difference is not None and cv2.mean(estimator.difference)[0] == pytest.approx(0.64, abs=0.1)


def test_a_dim_pair_is_brightened_by_one_gain_so_the_still_wall_stays_still() -> None:
    estimator = FlowEstimator(skip_repeats=False)
    for k in range(4):
        estimator(cv2.convertScaleAbs(_moving_square(100 + 2 * k, wall=20), alpha=0.3))
    assert estimator.difference is not None
    wall = estimator.difference.copy()
    wall[25:50, 35:70] = 0  # the square, at the flow's 128 px
    assert wall.max() == 0


def test_pictures_in_good_light_are_compared_as_they_are() -> None:
    frame = _moving_square(100)
    assert bright_top(frame) >= DIM_TOP and lifted(frame, bright_top(frame)) is frame
    dim = cv2.convertScaleAbs(frame, alpha=0.3)
    assert bright_top(lifted(dim, bright_top(dim))) == pytest.approx(DIM_TOP, abs=2)


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
    texture = cv2.resize(
        rng.integers(0, 256, (30, 40, 3)).astype(np.uint8), (200, 150), interpolation=cv2.INTER_NEAREST
    )
    return np.roll(texture, shift, axis=0)


@pytest.mark.parametrize("size", [(1000, 563), (854, 480), (1280, 720)])
def test_a_large_frame_reads_as_the_same_scene_filmed_small(size: tuple[int, int]) -> None:
    # Phones film at many sizes, some not a whole multiple of the 128-px flow grid; however a frame
    # is shrunk, the same motion must give the same coarse field.
    small, large = _coarse_fields(None), _coarse_fields(size)
    assert np.corrcoef(small.ravel(), large.ravel())[0, 1] > 0.993


def _coarse_fields(size: tuple[int, int] | None, frames: int = 40) -> np.ndarray:
    encoder = FlowEncoder(framing=False)
    fields = []
    for k in range(frames):
        scene = _scene(k, mover_centre=(0.4, 0.5), mover_side=0.3)
        encoded = encoder(scene if size is None else cv2.resize(scene, size, interpolation=cv2.INTER_LINEAR), 0.04)
        if encoded is not None:
            fields.append(encoded.coarse_field)
    return np.array(fields)


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


def _scene(
    frame: int, mover_centre: tuple[float, float], mover_side: float, shake_px: int = 0, fps: float = 25.0
) -> np.ndarray:
    """A 320×180 textured room with a textured square bobbing up and down (1.2 s a cycle) at
    `mover_centre` (fractions of the frame), the whole picture shaken by up to `shake_px`."""
    rng = np.random.default_rng(5)
    room = cv2.resize(rng.integers(0, 256, (18, 32, 3)).astype(np.uint8), (320, 180), interpolation=cv2.INTER_NEAREST)
    side = round(mover_side * 180)
    mover = cv2.resize(rng.integers(0, 256, (5, 5, 3)).astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST)
    bob = round(0.25 * side * np.sin(2 * np.pi * frame / (1.2 * fps)))
    x0 = round(mover_centre[0] * 320 - side / 2)
    y0 = round(mover_centre[1] * 180 - side / 2) + bob
    room[y0 : y0 + side, x0 : x0 + side] = mover
    if shake_px:
        dx, dy = np.random.default_rng(frame).integers(-shake_px, shake_px + 1, 2)
        room = np.roll(room, (int(dy), int(dx)), axis=(0, 1))
    return room


def _encode(frames: int, **scene: object) -> list[tuple[int, EncodedFlow]]:
    """(frame number, reading) for each frame that gave flow (not the first, nor a repeat)."""
    encoder = FlowEncoder()
    readings = [(k, encoder(_scene(k, **scene), 0.04)) for k in range(frames)]
    return [(k, r) for k, r in readings if r is not None]


def test_a_small_mover_is_shown_to_the_cnn_close_up_after_a_couple_of_seconds() -> None:
    # A person across the room: the CNN's image is the flow of a crop around them, the counter's
    # field and the screen's image stay the whole frame.
    readings = _encode(125, mover_centre=(0.3, 0.6), mover_side=0.15)
    assert all(r.crop is None for k, r in readings if k < 50)  # nothing is framed in the first 2 s
    last = readings[-1][1]
    assert last.crop is not None
    x0, y0, x1, y1 = last.crop
    assert 1.4 <= 1 / (x1 - x0) <= 2.5 and (x1 - x0) == pytest.approx(y1 - y0)  # the frame's aspect
    assert (x0 + x1) / 2 == pytest.approx(0.3, abs=0.06) and (y0 + y1) / 2 == pytest.approx(0.6, abs=0.06)
    assert last.display_bgr.shape == (72, 128, 3) and last.aligned_bgr.shape[:2] == (72, 128)
    # Within the crop the mover is bigger, so its motion reads faster than in the whole frame.
    framed_brightness = last.aligned_bgr.max(axis=2).astype(float).mean()
    assert framed_brightness > 1.5 * last.display_bgr.max(axis=2).astype(float).mean()


def test_motion_everywhere_or_a_close_up_keeps_the_whole_frame() -> None:
    shaken = _encode(125, mover_centre=(0.5, 0.5), mover_side=0.15, shake_px=3)  # a hand-held phone
    close_up = _encode(125, mover_centre=(0.5, 0.5), mover_side=0.6)
    assert all(r.crop is None for _, r in shaken + close_up)


def test_the_framing_does_not_flip_back_and_forth_on_a_steady_scene() -> None:
    framing = MotionFraming()
    change = np.zeros((72, 128), np.uint8)
    change[30:45, 50:65] = 40  # steady motion in a small region
    boxes = [framing.update(change, 0.04) for _ in range(250)]
    first = next(k for k, box in enumerate(boxes) if box is not None)
    assert 2.0 <= first * 0.04 <= 3.0  # warm-up, then a steady call for the crop
    assert all(box == boxes[first] for box in boxes[first:])


def test_the_session_says_which_part_of_the_frame_the_cnn_looks_at() -> None:
    # The screens outline it (viz.side_by_side).
    session = Session()
    results = [session.process(_scene(k, mover_centre=(0.7, 0.4), mover_side=0.15), k / 25) for k in range(100)]
    assert results[10].crop is None and results[-1].crop is not None
    x0, y0, x1, y1 = results[-1].crop
    assert x0 < 0.7 < x1 and y0 < 0.4 < y1
