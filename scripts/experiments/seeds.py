"""Session 19: how much does `flowrep bench --webcam` move with the webcam's timestamp jitter (its
seed), and which live first-reps rule holds across seeds? See docs/experiments.md, "Session 19".

    PYTHONPATH=. python scripts/experiments/seeds.py record SEED FOLDER [FOLDER ...]
    PYTHONPATH=. python scripts/experiments/seeds.py replay SEED,SEED,... [SETTING=VALUE ...] [-v]

`record` caches each clip's counter inputs as `WebcamConditions(seed=SEED)` delivers it
(/tmp/seed-SEED/webcam/FOLDER/CLIP.npz; seed 0, the bench's own, is warm_flow.py's /tmp/warm-shipped).
`replay` counts them live, as `flowrep bench --webcam` does, for each seed and on average over the
seeds, with frame_rate.py's settings (`first=final-any`, `first_strength=0.6`, `window_s=…`) or
`first=stable:F`: a set's first reps also need the period of this reading within a fraction F of
the period of a reading at least that period earlier (a period that drifts as the stream grows,
the short "period" inside a slow movement, is not yet a repetition); `warm_up=N`, the frames the
sampler times before it fixes the stream's frame interval (8 shipped).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np

import flowrep.counter as counter_module
import flowrep.periodicity as periodicity
from flowrep.conditions import WebcamConditions
from flowrep.model import use_one_thread
from scripts import tune_evidence
from scripts.experiments import frame_rate

DATA = Path("/work/shared/data")
_shipped_phase_now = counter_module.RepCounter._phase_now


def _cache(seed: int) -> Path:
    return Path("/tmp/warm-shipped") if seed == 0 else Path(f"/tmp/seed-{seed}")


def record(seed: int, folders: list[str]) -> None:
    tune_evidence.WebcamConditions = functools.partial(WebcamConditions, seed=seed)  # type: ignore[misc]
    tune_evidence.record(DATA, _cache(seed), tuple(folders), ("webcam",))


STABLE = 0.0


def _median_period(evidence) -> float | None:
    periods = [e.period_s for e in evidence if e.repeating and e.period_s]
    return float(np.median(periods)) if periods else None


def _stable_phase_now(self):
    """The shipped rule; until the first rep, also a period that held for one period of readings."""
    phase, crossings = _shipped_phase_now(self)
    if self.count > 0:
        return phase, crossings
    now = self._last_t or 0.0
    period = _median_period((*self._evidence.evidence, *self._evidence.provisional()))
    history = self.__dict__.setdefault("_periods", [])
    history.append((now, period))
    if phase.value <= 0 or period is None:
        return phase, crossings
    earlier = [p for t, p in history if t <= now - period and p is not None]
    if not earlier or abs(earlier[-1] - period) > STABLE * period:
        return counter_module._Phase(), []
    return phase, crossings


INDEX = "step"


def _stepped_fill(self, time_s, feature, still):
    """_Sampler._fill with each frame's sample index counted on from the last frame's (the frames
    between them, by the interval), not from the stream's first frame: a frame interval estimated a
    few per cent off no longer drifts the grid by a sample every few seconds."""
    assert self.frame_s is not None
    previous = self._last
    if previous is None:
        last = round((time_s - self._t0) / self.frame_s)
    else:
        step = round((time_s - previous[0]) / self.frame_s)
        last = self._last_index + (max(1, step) if INDEX == "step1" else step)
    out = []
    while self._next <= last:
        sample_t = self._t0 + self._next * self.frame_s
        if previous is not None and last > self._last_index:
            share = (self._next - self._last_index) / (last - self._last_index)
            value = previous[1] + share * (feature - previous[1])
        else:
            value = feature
        out.append((sample_t, value, still))
        self._next += 1
    self._last = (time_s, feature)
    self._last_index = last
    return out


def replay(seeds: list[int], pairs: list[str], per_clip: bool) -> None:
    global STABLE
    stable = [p for p in pairs if p.startswith("first=stable:")]
    for pair in [p for p in pairs if p.startswith("warm_up=")]:
        periodicity._Sampler.WARM_UP = int(pair.split("=")[1])
    global INDEX
    for pair in [p for p in pairs if p.startswith("index=")]:
        INDEX = pair.split("=")[1]
        periodicity._Sampler._fill = _stepped_fill  # type: ignore[method-assign]
    ours = ("warm_up=", "index=")
    settings = frame_rate.settings_from([p for p in pairs if p not in stable and not p.startswith(ours)])
    if stable:
        STABLE = float(stable[0].split(":")[1])
        counter_module.RepCounter._phase_now = _stable_phase_now  # type: ignore[method-assign]
    label = " ".join(pairs) or "shipped"
    for folder in ("exercise", "quva"):
        per_seed = []
        for seed in seeds:
            rows = []
            for path in sorted((_cache(seed) / "webcam" / folder).glob("*.npz")):
                clip = np.load(path)
                rows.append((int(clip["true"]), tune_evidence.replay(clip, settings, live=True)))
                if per_clip and rows[-1][0] != rows[-1][1]:
                    print(f"  seed {seed} {path.stem} {rows[-1][1]} of {rows[-1][0]}")
            per_seed.append(rows)
            print(f"seed {seed} {label} {folder}: {tune_evidence.half_figures(rows)}", flush=True)
        maes = np.array([[abs(p - t) / t for t, p in rows] for rows in per_seed])
        obos = np.array([[abs(p - t) <= 1 for t, p in rows] for rows in per_seed])
        halves = "  ".join(
            f"{name} {maes[:, idx].mean():.3f} ({obos[:, idx].mean():.2f})"
            for name, idx in (("A", slice(0, None, 2)), ("B", slice(1, None, 2)), ("all", slice(None)))
        )
        print(f"MEAN over seeds {seeds} {label} {folder}: {halves}", flush=True)


def main() -> int:
    use_one_thread()
    per_clip = "-v" in sys.argv
    args = [a for a in sys.argv[1:] if a != "-v"]
    if args[0] == "record":
        record(int(args[1]), args[2:])
    else:
        replay([int(s) for s in args[1].split(",")], args[2:], per_clip)
    return 0


if __name__ == "__main__":
    sys.exit(main())
