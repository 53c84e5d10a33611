"""The counter on synthetic probability streams: what a person exercising would see on screen."""
from __future__ import annotations

import numpy as np
import pytest

from flowrep.counter import CounterSettings, RepCounter

DOWN, STILL, UP = np.eye(3)
FPS = 30.0


def stream(phases: list[tuple[np.ndarray, float]], fps: float = FPS) -> list[tuple[float, np.ndarray]]:
    """Frames (time, probabilities) for a list of (class, seconds) phases."""
    frames, t = [], 0.0
    for probabilities, seconds in phases:
        for _ in range(max(1, round(seconds * fps))):
            frames.append((t, probabilities))
            t += 1 / fps
    return frames


def run(frames, counter: RepCounter | None = None, fields=None, speeds=None, repeated=None) -> RepCounter:
    counter = counter or RepCounter()
    for i, (t, p) in enumerate(frames):
        counter.update(t, p, None if fields is None else fields[i], None if speeds is None else speeds[i],
                       False if repeated is None else repeated[i])
    counter.finish()
    return counter


def reps(n: int, down_s: float, up_s: float, pause_bottom: float = 0.0, pause_top: float = 0.0,
         first=DOWN, second=UP) -> list[tuple[np.ndarray, float]]:
    phases = [(STILL, 1.0)]
    for _ in range(n):
        phases += [(first, down_s), (STILL, pause_bottom), (second, up_s), (STILL, pause_top)]
    return [p for p in phases if p[1] > 0] + [(STILL, 1.0)]


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_counts_steady_reps(n: int) -> None:
    assert run(stream(reps(n, 0.8, 0.8))).count == n


def test_pauses_at_top_and_bottom_add_nothing() -> None:
    assert run(stream(reps(6, 1.0, 0.7, pause_bottom=1.5, pause_top=2.0))).count == 6


def test_a_pause_midway_through_a_movement_adds_nothing() -> None:
    phases = [(STILL, 1.0)]
    for _ in range(4):
        phases += [(DOWN, 0.6), (STILL, 0.8), (DOWN, 0.6), (UP, 1.0), (STILL, 0.5)]
    assert run(stream(phases)).count == 4


def test_slow_eccentric_and_fast_concentric() -> None:
    assert run(stream(reps(5, 3.5, 0.6))).count == 5


def test_up_first_exercises_count_the_same() -> None:  # pull-ups: up, then down
    assert run(stream(reps(7, 0.9, 1.1, first=UP, second=DOWN))).count == 7


def test_jump_rope_speed_four_to_six_frames_a_rep() -> None:
    phases = [(STILL, 1.0)]
    rng = np.random.default_rng(0)
    for _ in range(60):
        frames_per_rep = int(rng.integers(4, 7))
        half = frames_per_rep // 2
        phases += [(DOWN, half / FPS), (UP, (frames_per_rep - half) / FPS)]
    assert run(stream(phases + [(STILL, 1.0)])).count == 60


def test_fast_cycles_that_alternate_in_shape_are_still_one_rep_each() -> None:
    # Speed steps seen off-centre: left and right feet do not mirror each other, so every other
    # cycle looks alike. At 6 cycles a second no rep has two halves: each cycle is a rep.
    frames = stream([(STILL, 1.0)] + [(DOWN, 2 / FPS), (UP, 3 / FPS)] * 60 + [(STILL, 1.0)])
    lead = round(1.0 * FPS)
    fields = [np.zeros((6, 6, 2), np.float32)] * lead + _two_halves_fields(frames[lead:], 5, True)
    assert 57 <= run(frames, fields=fields).count <= 60


def test_jitter_while_moving_adds_nothing() -> None:
    frames = stream(reps(8, 1.0, 1.0))
    rng = np.random.default_rng(1)
    noisy = []
    for t, p in frames:
        if rng.random() < 0.06:  # an occasional single frame classified the wrong way
            p = UP if p is DOWN else DOWN if p is UP else p
        noisy.append((t, p))
    assert run(noisy).count == 8


def test_standing_still_with_noise_counts_nothing() -> None:
    rng = np.random.default_rng(2)
    frames = []
    for i in range(int(60 * FPS)):
        p = rng.dirichlet([1, 8, 1])  # mostly "still", small random down/up evidence
        frames.append((i / FPS, p))
    assert run(frames).count == 0


def test_walking_in_then_exercising_counts_only_the_reps() -> None:
    phases = [(STILL, 0.5), (DOWN, 2.5), (STILL, 5.0)] + reps(4, 1.0, 1.0)
    assert run(stream(phases)).count == 4


def test_count_rises_within_half_a_second_of_the_rep_ending() -> None:
    counter = RepCounter()
    t = 0.0
    rep_ends, count_times = [], []
    for _ in range(5):
        for probabilities, seconds in [(DOWN, 1.0), (UP, 1.0), (STILL, 1.5)]:
            for _ in range(int(seconds * FPS)):
                if counter.update(t, probabilities) is not None:
                    count_times.append(t)
                t += 1 / FPS
            if probabilities is UP:
                rep_ends.append(t)
    assert len(count_times) == 5
    assert all(0 <= c - e <= 0.5 for c, e in zip(count_times, rep_ends))


@pytest.mark.parametrize("last_rise_s, counted", [(0.45, 5), (0.2, 4)])
def test_a_clip_that_stops_a_whole_cycle_after_the_last_rep_counts_the_rep_under_way(
        last_rise_s: float, counted: int) -> None:
    # Cut from the middle of a set: the clip opens on the end of a rise, so the swings pair up as
    # (up, down), and the last, slow rise has no partner when the clip stops. The person is still
    # moving and a whole rep's time has passed since the last count: one more rep (the rep the clip
    # opened in is then counted too, as QUVA's annotators count it). Half a rep's time adds nothing.
    phases = [(UP, 0.15)] + [(DOWN, 0.17), (UP, 0.23)] * 3 + [(DOWN, 0.17), (UP, last_rise_s)]
    assert run(stream(phases)).count == counted


def test_reps_report_their_start_turn_and_end() -> None:
    counter = run(stream([(STILL, 1.0), (DOWN, 1.0), (UP, 1.0), (STILL, 1.0)]))
    counter_reps = []
    c = RepCounter()
    for t, p in stream([(STILL, 1.0), (DOWN, 1.0), (UP, 1.0), (STILL, 1.0)]):
        if (rep := c.update(t, p)) is not None:
            counter_reps.append(rep)
    assert counter.count == 1 and len(counter_reps) == 1
    rep = counter_reps[0]
    assert rep.start_s == pytest.approx(1.0, abs=0.15)
    assert rep.turn_s == pytest.approx(2.0, abs=0.15)
    assert rep.end_s == pytest.approx(3.0, abs=0.15)


def _two_halves_fields(frames, period_frames: int, alternate: bool) -> list[np.ndarray]:
    """Coarse motion fields: the body bobs once per cycle; when `alternate`, the arms also swing
    up through one cycle and down through the next (a jumping jack)."""
    fields = []
    for i, (_, p) in enumerate(frames):
        field = np.zeros((6, 6, 2), np.float32)
        field[:, :, 1] = 0.05 * float(p[0] - p[2])
        if alternate:
            field[:2, :, 1] += 0.2 * np.sin(np.pi * i / period_frames)
        fields.append(field)
    return fields


def test_two_distinct_cycles_per_rep_count_once() -> None:  # a jumping jack's hop out and hop in
    frames = stream([(STILL, 0.5)] + [(DOWN, 0.25), (UP, 0.25)] * 20 + [(STILL, 1.0)])
    lead = round(0.5 * FPS)
    fields = [np.zeros((6, 6, 2), np.float32)] * lead + _two_halves_fields(frames[lead:], 15, True)
    assert run(frames, fields=fields).count == 10


def test_alike_cycles_each_count() -> None:
    frames = stream([(STILL, 0.5)] + [(DOWN, 0.25), (UP, 0.25)] * 20 + [(STILL, 1.0)])
    assert run(frames, fields=_two_halves_fields(frames, 15, False)).count == 20


def test_one_cycle_unlike_the_last_does_not_halve_a_slow_set() -> None:
    # A back extension filmed by a hand-held camera: the framing shifts over the first reps, so for
    # one cycle the motion looks more like two cycles back than one. That is no jumping jack.
    frames = stream([(STILL, 0.5)] + [(DOWN, 0.5), (UP, 0.5)] * 12 + [(STILL, 1.0)])
    lead, shifting = round(0.5 * FPS), round(3 * FPS)
    alternating = _two_halves_fields(frames[lead:], 30, True)
    alike = _two_halves_fields(frames[lead:], 30, False)
    fields = [np.zeros((6, 6, 2), np.float32)] * lead + alternating[:shifting] + alike[shifting:]
    assert run(frames, fields=fields).count == 12


@pytest.mark.parametrize("cycles, frames_per_cycle", [(40, 6), (60, 5), (20, 10)])
def test_fast_cycles_with_an_unsure_return_are_counted_by_their_rhythm(cycles: int, frames_per_cycle: int) -> None:
    # A fast movement whose return the classifier barely sees: x only drifts one way and no swing
    # turns back, but the signal's steady rhythm still shows every cycle (after the two it needs).
    unsure = np.array([0.3, 0.3, 0.4])
    down_frames = frames_per_cycle // 2
    phases = [(STILL, 1.0)] + [(DOWN, down_frames / FPS), (unsure, (frames_per_cycle - down_frames) / FPS)] * cycles
    assert cycles - 3 <= run(stream(phases + [(STILL, 1.0)])).count <= cycles


UNSURE = np.array([0.3, 0.3, 0.4])


@pytest.mark.parametrize("steps", [60, 90])
def test_fast_steps_whose_direction_repeats_every_other_step_are_counted_by_their_speed(steps: int) -> None:
    # Speed steps: the feet alternate, so the direction pattern repeats only every other step and
    # the classifier is unsure of most frames; yet every step is one pulse of speed.
    left, right = [DOWN, DOWN, UNSURE, UP, UNSURE], [UNSURE, UNSURE, DOWN, UNSURE, UNSURE]
    pulse = [0.3, 1.0, 1.0, 0.6, 0.2]
    frames, speeds = stream([(STILL, 1.0)]), [0.0] * round(FPS)
    for step in range(steps):
        for p, speed in zip(left if step % 2 == 0 else right, pulse):
            frames.append((len(frames) / FPS, p))
            speeds.append(speed)
    assert run(frames).count <= steps // 2  # the direction alone does not show the steps
    # The speed's rhythm is trusted after 2 s of history and takes a few more steps to lock on.
    assert steps - 21 <= run(frames, speeds=speeds).count <= steps


@pytest.mark.parametrize(("n", "phase_s", "pause_s"), [(8, 0.75, 0.2), (10, 0.5, 0.1), (6, 0.9, 0.3)])
def test_burpees_count_once_each_though_their_speed_pulses_four_times(n: int, phase_s: float, pause_s: float) -> None:
    # A burpee crouches, stands, jumps and lands: four pulses of speed a rep, while the reading
    # turns only twice (down; up, up; down). The speed's rhythm is a phase of the rep, not a rep.
    phases = [(STILL, 1.0)]
    for _ in range(n):
        for direction in (DOWN, UP, UP, DOWN):
            phases += [(direction, phase_s), (STILL, pause_s)]
    frames, speeds = [], []
    for probabilities, seconds in phases + [(STILL, 1.0)]:
        length = round(seconds * FPS)
        for i in range(length):
            frames.append((len(frames) / FPS, probabilities))
            moving = probabilities is not STILL
            speeds.append(0.02 + (np.sin(np.pi * (i + 0.5) / length) if moving else 0.0))
    assert run(frames).count == n
    assert run(frames, speeds=speeds).count == n


@pytest.mark.parametrize("scenario", ["steady", "pauses", "slow and fast", "jitter", "still", "two halves"])
def test_the_mean_speed_changes_nothing_where_the_direction_shows_the_reps(scenario: str) -> None:
    # Each rep's down and up are two pulses of speed: they must not be counted as two reps.
    rng = np.random.default_rng(3)
    frames = {
        "steady": stream(reps(10, 0.8, 0.8)),
        "pauses": stream(reps(6, 1.0, 1.0, pause_bottom=0.5, pause_top=1.0)),
        "slow and fast": stream(reps(6, 2.0, 0.5)),
        "jitter": [(t, DOWN if rng.random() < 0.06 and p is UP else p) for t, p in stream(reps(8, 1.0, 1.0))],
        "still": [(i / FPS, rng.dirichlet([1, 8, 1])) for i in range(int(30 * FPS))],
        "two halves": stream([(STILL, 0.5)] + [(DOWN, 0.25), (UP, 0.25)] * 20 + [(STILL, 1.0)]),
    }[scenario]
    speeds = [abs(float(p[0] - p[2])) + 0.05 * rng.random() for _, p in frames]
    assert run(frames, speeds=speeds).count == run(frames).count


def _sway_fields(sway: np.ndarray, slow: np.ndarray | None = None) -> list[np.ndarray]:
    """Coarse motion fields whose mean moves sideways by `sway` (and vertically by `slow`)."""
    fields = []
    for i, dx in enumerate(sway):
        field = np.zeros((6, 6, 2), np.float32)
        field[..., 0] = dx
        if slow is not None:
            field[..., 1] = slow[i]
        fields.append(field)
    return fields


def _unresolved_steps(steps: int, frames_per_step: float, rng: np.random.Generator, camera_fps: float = FPS):
    """Speed steps the classifier cannot resolve: its reading is noise around a slight lean, going
    both ways as on real clips (no period in s, none in the speed), while the image sways left and
    right once a step. A camera slower than FPS is converted to FPS by repeating its last frame;
    returns frames, fields, speeds, repeated."""
    lead = round(FPS)
    n = lead + round(steps * frames_per_step)
    shown = np.floor(np.arange(n) * camera_fps / FPS)  # the camera frame each output frame shows
    repeated = np.r_[False, shown[1:] == shown[:-1]]
    seen_s = shown / camera_fps - lead / FPS  # when, after the lead-in, that camera frame was taken
    noise = rng.normal(0, 1, (int(shown[-1]) + 1, 3))[shown.astype(int)]  # one reading per camera frame
    lean = np.array([0.45, 0.2, 0.35]) + 0.15 * noise * [1, 0, -1]
    frames = [(i / FPS, STILL if i < lead else lean[i]) for i in range(n)]
    sway = np.where(seen_s < 0, 0.0, 0.05 * np.sin(2 * np.pi * seen_s * FPS / frames_per_step) + 0.01 * noise[:, 1])
    speeds = np.where(seen_s < 0, 0.0, 1.0 + 0.05 * noise[:, 1])
    return frames, _sway_fields(sway), list(speeds), list(repeated)


@pytest.mark.parametrize("frames_per_step", [4, 5, 6])
def test_fast_steps_the_classifier_cannot_resolve_are_counted_by_their_sideways_sway(frames_per_step: int) -> None:
    steps = 120
    frames, fields, speeds, _ = _unresolved_steps(steps, frames_per_step, np.random.default_rng(frames_per_step))
    assert run(frames, speeds=speeds).count <= 2  # neither the direction nor the speed shows the steps
    # The sway's rhythm is trusted after 2 s of history, like the speed's.
    assert steps - 2.5 * FPS / frames_per_step - 3 <= run(frames, fields=fields, speeds=speeds).count <= steps


def _uneven_pull_ups(rng: np.random.Generator, reading_noise: float):
    """12 pull-ups at an uneven pace (no clear period in s); the classifier's reading is mixed with
    `reading_noise` of random probabilities. Returns the frames and the vertical mean flow."""
    phases = [(STILL, 1.0)]
    for _ in range(12):
        phases += [(UP, rng.uniform(0.6, 1.2)), (STILL, rng.uniform(0.2, 1.5)), (DOWN, rng.uniform(0.6, 1.2)),
                   (STILL, rng.uniform(0.2, 1.5))]
    frames = [(t, (1 - reading_noise) * p + reading_noise * rng.dirichlet([1, 1, 1]))
              for t, p in stream(phases + [(STILL, 1.0)])]
    slow = np.array([0.2 * float(p[2] - p[0]) for _, p in frames]) + rng.normal(0, 0.02, len(frames))
    return frames, slow


def test_a_fast_flicker_in_a_small_part_of_the_flow_is_no_rhythm() -> None:
    # Compression noise flickers the mean flow sideways every 4 frames beside slow pull-ups (as in a
    # real clip): the flicker repeats, but it is a small part of the motion, and adds no rep. The
    # reading is noisy enough to turn often, as a real classifier's is.
    rng = np.random.default_rng(5)
    frames, slow = _uneven_pull_ups(rng, 0.3)
    flicker = 0.03 * np.sin(2 * np.pi * np.arange(len(frames)) / 4) + rng.normal(0, 0.01, len(frames))
    assert run(frames).count == 12
    assert run(frames, fields=_sway_fields(flicker, slow)).count == 12


def test_a_flickering_light_beside_a_slow_movement_is_no_rhythm() -> None:
    # The light flickers: the mean flow speed pulses every 4 frames, as strongly as the movement,
    # while the classifier's reading of the slow pull-ups hardly turns.
    rng = np.random.default_rng(5)
    frames, slow = _uneven_pull_ups(rng, 0.0)
    n = len(frames)
    speeds = list(np.abs(slow) * 5 + 1.0 + np.sin(2 * np.pi * np.arange(n) / 4) + rng.normal(0, 0.02, n))
    assert run(frames, speeds=speeds).count == 12


@pytest.mark.parametrize("camera_fps, frames_per_step", [(20, 4), (20, 6), (25, 4)])
def test_frames_that_repeat_the_one_before_do_not_break_a_fast_rhythm(camera_fps: float, frames_per_step: int) -> None:
    # A 20 or 25 fps camera converted to 30 fps: every third or sixth frame repeats the one before.
    steps = 150
    frames, fields, speeds, repeated = _unresolved_steps(steps, frames_per_step, np.random.default_rng(0), camera_fps)
    counted = run(frames, fields=fields, speeds=speeds, repeated=repeated).count
    assert steps - 2.5 * FPS / frames_per_step - 3 <= counted <= steps


@pytest.mark.parametrize("shaken", ["speed", "sway"])
def test_a_still_person_filmed_by_a_vibrating_camera_counts_nothing(shaken: str) -> None:
    # The phone sits on a shaking stand: the speed, or the mean flow sideways, repeats every
    # 5 frames, while the classifier sees a person standing still (with its usual noise).
    rng = np.random.default_rng(4)
    n = round(30 * FPS)
    frames = [(i / FPS, rng.dirichlet([1, 8, 1])) for i in range(n)]
    shake = np.sin(2 * np.pi * np.arange(n) / 5)
    speeds = list(1.0 + (0.5 * shake if shaken == "speed" else 0.0) + rng.normal(0, 0.05, n))
    fields = _sway_fields(0.05 * shake + rng.normal(0, 0.01, n)) if shaken == "sway" else None
    assert run(frames, fields=fields, speeds=speeds).count == 0


@pytest.mark.parametrize("step_s", [0.2, 0.35, 0.5])
def test_walking_across_the_picture_counts_no_steps(step_s: float) -> None:
    # Someone walks through the picture for 7 s: the classifier's reading points one way all along
    # (it never turns, as a repetition would), while the speed and the sideways flow pulse at every step.
    rng = np.random.default_rng(1)
    n = round(8 * FPS)
    times = np.arange(n) / FPS
    walking = times >= 1.0
    frames = [(t, np.clip([0.7, 0.15, 0.15] + rng.normal(0, 0.1, 3) * [1, 0, -1], 0, 1) if w else STILL)
              for t, w in zip(times, walking)]
    steps = np.abs(np.sin(np.pi * times / step_s))
    speeds = list(np.where(walking, 1.0 + 0.6 * steps, 0.0) + rng.normal(0, 0.05, n))
    sway = np.where(walking, 0.05 * np.sin(np.pi * times / step_s), 0.0) + rng.normal(0, 0.01, n)
    assert run(frames, fields=_sway_fields(sway), speeds=speeds).count == 0
