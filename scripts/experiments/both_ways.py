"""Session 20 (issue 19): the repetition evidence's flow measured both ways, over five jitter seeds.
See docs/experiments.md, "Session 20".

Record the caches first (each clip's counter inputs, as scripts/tune_evidence.py records them):

    PYTHONPATH=. python scripts/experiments/warm_flow.py record feat-sym file exercise quva jumprope
    PYTHONPATH=. python scripts/experiments/warm_flow.py record feat-sym webcam exercise quva jumprope
    PYTHONPATH=. python scripts/experiments/warm_flow.py record feat-sym webcam exercise quva --seed S   # S = 1-4
    (likewise `sym` / `far-sym` for the whole engine on the both-ways flow, CNN included; the shipped
    forward flow is /tmp/warm-shipped and seeds.py's /tmp/seed-S)

Then:

    PYTHONPATH=. python scripts/experiments/both_ways.py replay FLOW VARIANT [-v] [--as-file]
    PYTHONPATH=. python scripts/experiments/both_ways.py first-count FLOW STRENGTH [STRENGTH ...]

FLOW: `forward` (the code before session 20), `sym` (the whole engine on the both-ways flow),
`feat-sym` (shipped: only the counter's field both ways). VARIANT: `base`; `first_strength=F` (the
live first-reps strength); `evidence:near=N,min_strength=S` (the evidence's settings); `win=M`
(every lag's window at least M lags); `affine` / `similar` (the features less the grid's best
affine / similarity field instead of its mean: a camera that pans, turns or zooms).
`replay` counts files as files and webcam caches live over seeds 0-4 (`--as-file`:
the webcam caches counted as files), MAE (OBO) per half (clips sorted by name alternate A / B) and
the protocol's objective per half. `first-count` says how many clip-seeds get no live count before
the stream ends, and when the first count comes.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

import flowrep.counter as counter_module
import flowrep.similarity as similarity
from flowrep.counter import CounterSettings, RepCounter
from flowrep.model import use_one_thread
from flowrep.periodicity import EvidenceSettings
from scripts import tune_evidence

SEEDS = (0, 1, 2, 3, 4)


def _cache(flow: str, seed: int) -> Path:
    if flow == "forward":
        return Path("/tmp/warm-shipped" if seed == 0 else f"/tmp/seed-{seed}")
    if flow == "sym":
        return Path("/tmp/warm-sym" if seed == 0 else f"/tmp/warm-far-sym-seed{seed}")
    return Path(f"/tmp/warm-{flow}" + (f"-seed{seed}" if seed else ""))


def _camera_removed(kind: str):
    """Features: the field less its best affine (3 + 3 parameters) or similarity (4) fit on the grid."""
    centres = (np.arange(6) + 0.5) / 6 - 0.5
    x, y = (grid.ravel() for grid in np.meshgrid(centres, centres))
    if kind == "affine":
        basis = np.stack([np.ones(36), x, y], axis=1)
        projection = basis @ np.linalg.pinv(basis)

        def fit(cells: np.ndarray) -> np.ndarray:
            return np.stack([projection @ cells[:, 0], projection @ cells[:, 1]], axis=1)
    else:  # dx = tx + s x - r y, dy = ty + r x + s y
        basis = np.zeros((72, 4))
        basis[0::2, 0], basis[1::2, 1] = 1, 1
        basis[0::2, 2], basis[1::2, 2], basis[0::2, 3], basis[1::2, 3] = x, y, -y, x
        projection = basis @ np.linalg.pinv(basis)

        def fit(cells: np.ndarray) -> np.ndarray:
            return (projection @ cells.ravel()).reshape(-1, 2)

    def features(field: np.ndarray) -> np.ndarray:
        cells = np.asarray(field, dtype=np.float64).reshape(-1, 2)
        return (cells - fit(cells)).ravel()

    return features


def _wide_windows(multiple: float):
    shipped = similarity.SelfSimilarity.__init__

    def init(self, dim: int, frame_s: float, window_s: float, longest_period_s: float) -> None:
        shipped(self, dim, frame_s, window_s, longest_period_s)
        self.windows = np.maximum(self.windows, np.ceil(multiple * self.lags).astype(int))
        self._depth = int(self.windows.max()) + self.max_lag + 2
        self._products = np.zeros((self._depth + 1, self.max_lag + 1))
        self._sums = np.zeros((self._depth + 1, dim))
        self._energy = np.zeros(self._depth + 1)

    return init


def _settings(variant: str) -> CounterSettings:
    """The counter's settings for a variant, patching the engine where the variant needs it."""
    if variant.startswith("first_strength="):
        return dataclasses.replace(CounterSettings(), first_strength=float(variant.split("=")[1]))
    if variant.startswith("evidence:"):  # evidence:near=0.1,min_strength=0.3
        pairs = dict(pair.split("=") for pair in variant.split(":")[1].split(","))
        evidence = dataclasses.replace(EvidenceSettings(), **{k: float(v) for k, v in pairs.items()})
        return CounterSettings(evidence=evidence)
    if variant.startswith("win="):
        similarity.SelfSimilarity.__init__ = _wide_windows(float(variant.split("=")[1]))  # type: ignore[method-assign]
    elif variant in ("affine", "similar"):
        counter_module.motion_features = _camera_removed(variant)  # type: ignore[assignment]
    return CounterSettings()


def replay(flow: str, variant: str, per_clip: bool, as_file: bool) -> None:
    settings = _settings(variant)
    objective: dict[str, list[float]] = {"A": [], "B": []}
    for mode in ("file", "webcam"):
        for folder in ("exercise", "quva", "jumprope"):
            seeds = (0,) if mode == "file" or folder == "jumprope" else SEEDS
            counts: dict[str, list[tuple[int, int]]] = {}
            for seed in seeds:
                for path in sorted((_cache(flow, seed) / mode / folder).glob("*.npz")):
                    clip = np.load(path)
                    live = mode == "webcam" and not as_file
                    counts.setdefault(path.stem, []).append(
                        (int(clip["true"]), tune_evidence.replay(clip, settings, live=live))
                    )
            names = sorted(counts)
            if not names:
                continue
            errors = np.array([[abs(n - t) / t for t, n in counts[name]] for name in names])
            within = np.array([[abs(n - t) <= 1 for t, n in counts[name]] for name in names])
            halves = "  ".join(
                f"{half} {errors[rows].mean():.3f} ({within[rows].mean():.2f})"
                for half, rows in (("A", slice(0, None, 2)), ("B", slice(1, None, 2)), ("all", slice(None)))
            )
            print(f"{flow} {variant} {mode} {folder}: {halves}", flush=True)
            if folder != "jumprope":
                objective["A"].append(errors[0::2].mean())
                objective["B"].append(errors[1::2].mean())
            if per_clip:
                for name in names:
                    print(f"    {name} {counts[name][0][0]} {[n for _, n in counts[name]]}")
    print(f"{flow} {variant} objective A {np.mean(objective['A']):.4f}  B {np.mean(objective['B']):.4f}")


def first_count(flow: str, strengths: list[float]) -> None:
    for strength in strengths:
        settings = dataclasses.replace(CounterSettings(), first_strength=strength)
        for folder in ("exercise", "quva"):
            firsts, never = [], 0
            for seed in SEEDS:
                for path in sorted((_cache(flow, seed) / "webcam" / folder).glob("*.npz")):
                    clip = np.load(path)
                    counter, first = RepCounter(settings, live=True), None
                    for t, p, field, has_field, repeated in zip(
                        clip["t"], clip["p"], clip["fields"], clip["has_field"], clip["repeated"]
                    ):
                        if counter.update(float(t), p, field if has_field else None, bool(repeated)) and first is None:
                            first = float(t)
                    if first is None:
                        never += 1
                    else:
                        firsts.append(first)
            print(
                f"first_strength {strength} {folder}: {never} clip-seeds with no live count before the stream "
                f"ends; first count median {np.median(firsts):.2f} s, p90 {np.percentile(firsts, 90):.2f} s"
            )


def main() -> int:
    use_one_thread()
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    if args[0] == "replay":
        replay(args[1], args[2], "-v" in sys.argv, "--as-file" in sys.argv)
    else:
        first_count(args[1], [float(s) for s in args[2:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
