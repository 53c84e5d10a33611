"""Synthetic streams for the counter and the repetition evidence: what a person exercising gives the
engine frame by frame (the classifier's P(down), P(still), P(up) and the coarse flow field)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FPS = 30.0
STILL = np.array([0.0, 1.0, 0.0])
_GRID = (6, 6, 2)


@dataclass
class Stream:
    times: list[float]
    probabilities: list[np.ndarray]
    fields: list[np.ndarray]
    rep_ends: list[float]  # when each true rep ends


def exercise(
    reps: int,
    period_s: float,
    lead_s: float = 1.0,
    tail_s: float = 1.5,
    fps: float = FPS,
    pause_s: float = 0.0,
    seed: int = 0,
    hop: bool = False,
    tempo_end: float = 1.0,
    noise: float = 0.01,
) -> Stream:
    """`reps` reps of a body that goes down and back up (a squat) after `lead_s` of standing still,
    then `tail_s` still. Each rep moves for `period_s` and rests `pause_s` at the top; with `hop`,
    the classifier's reading turns twice per rep (a jumping jack's hop out and in) while the arms
    go up once; the tempo slows to `tempo_end` times the period by the last rep. Like a person's,
    no two reps are quite alike: each one's length and depth vary by a few per cent."""
    rng = np.random.default_rng(seed)
    pattern = rng.normal(0.0, 1.0, _GRID) * 0.3
    pattern[2:5, 2:4, 1] = 1.0  # the body, moving down
    arms = np.zeros(_GRID)
    arms[0:2, :, 1] = -1.0
    times, probabilities, fields, ends = [], [], [], []
    t = 0.0

    def frame(velocity: float, reading: float, arm: float = 0.0) -> None:
        nonlocal t
        times.append(t)
        field = velocity * pattern + arm * arms + rng.normal(0.0, noise, _GRID)
        fields.append(field.astype(np.float32))
        p_down, p_up = max(0.0, reading), max(0.0, -reading)
        probabilities.append(np.array([p_down, 1.0 - p_down - p_up, p_up]))
        t += 1 / fps

    for _ in range(round(lead_s * fps)):
        frame(0.0, 0.0)
    for k in range(reps):
        length = period_s * (1 + (tempo_end - 1) * k / max(1, reps - 1)) * rng.uniform(0.94, 1.06)
        depth = rng.uniform(0.85, 1.15)
        n = max(2, round(length * fps))
        for i in range(n):
            phase = i / n
            velocity = 0.2 * depth * np.sin(2 * np.pi * phase)
            cycles = 2 if hop else 1
            reading = float(np.clip(1.5 * np.sin(2 * np.pi * cycles * phase), -1, 1))
            frame(velocity, reading, 0.2 * np.sin(2 * np.pi * phase) if hop else 0.0)
        ends.append(t)
        for _ in range(round(pause_s * fps)):
            frame(0.0, 0.0)
    for _ in range(round(tail_s * fps)):
        frame(0.0, 0.0)
    return Stream(times, probabilities, fields, ends)


def one_movement(lead_s: float = 1.0, move_s: float = 1.2, tail_s: float = 6.0, seed: int = 1) -> Stream:
    """Stepping into place: one movement, never repeated, then standing still."""
    rng = np.random.default_rng(seed)
    pattern = rng.normal(0.0, 1.0, _GRID)
    times, probabilities, fields = [], [], []
    n_lead, n_move, n_tail = round(lead_s * FPS), round(move_s * FPS), round(tail_s * FPS)
    for i in range(n_lead + n_move + n_tail):
        moving = n_lead <= i < n_lead + n_move
        times.append(i / FPS)
        fields.append((0.2 * moving * pattern + rng.normal(0.0, 0.01, _GRID)).astype(np.float32))
        probabilities.append(np.array([0.9, 0.1, 0.0]) if moving else STILL)
    return Stream(times, probabilities, fields, [])


def noise_only(seconds: float = 30.0, seed: int = 2, fps: float = FPS) -> Stream:
    """A still person: sensor noise in the flow, a classifier sure it is still with a little doubt."""
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    return Stream(
        [i / fps for i in range(n)],
        [rng.dirichlet([1, 12, 1]) for _ in range(n)],
        [rng.normal(0.0, 0.01, _GRID).astype(np.float32) for _ in range(n)],
        [],
    )


def then(first: Stream, second: Stream) -> Stream:
    """`second` after `first`."""
    offset = (first.times[-1] + 1 / FPS) if first.times else 0.0
    return Stream(
        first.times + [t + offset for t in second.times],
        first.probabilities + second.probabilities,
        first.fields + second.fields,
        first.rep_ends + [t + offset for t in second.rep_ends],
    )
