"""Session 18 (issue 19): does the live counter count the same motion alike at every camera frame
rate? Not shipped; see docs/experiments.md, "Session 18".

    PYTHONPATH=. python scripts/experiments/frame_rate.py record FPS FOLDER [FOLDER ...]
    PYTHONPATH=. python scripts/experiments/frame_rate.py replay FPS [SETTING=VALUE ...] [-v]
    PYTHONPATH=. python scripts/experiments/frame_rate.py replay FPS first=final|final-any|settle:S
    PYTHONPATH=. python scripts/experiments/frame_rate.py replay FPS bin=S
    PYTHONPATH=. python scripts/experiments/frame_rate.py replay FPS|file norm=mixed|energy

`record` runs each clip once through the engine as a browser webcam delivers it (`WebcamConditions`,
its frame rate FPS instead of 10: 640 px, JPEG 70, jitter) and caches the counter's inputs as
`scripts/tune_evidence.py` records (/tmp/fps-FPS/webcam/FOLDER/CLIP.npz). FPS 0 is each clip as
filmed (no JPEG), as `flowrep workout` fed a clip to the live counter until session 18; it needs
`ln -s /tmp/warm-shipped/file /tmp/warm-shipped/file-as-webcam/webcam` after `warm_flow.py record
shipped file ...`, and FPS 10 `warm_flow.py record shipped webcam ...`. `replay` counts them live,
as `flowrep bench --webcam` does, with the shipped settings or with `EvidenceSettings` /
`CounterSettings` fields changed (e.g. window_s=0.8); `fewest_pairs=N` sets similarity._FEWEST_PAIRS.
`first=` changes when a live set's first reps may count (the shipped rule: the median strength of the
repeating samples, judged for good or provisionally, reaches `first_strength` at two readings in
a row): `final`, the same rule on the evidence judged for good only; `final-any`, as soon as any
sample judged for good repeats (no `first_strength`, one reading); `settle:S`, as soon as a
provisional sample at least S seconds old repeats. `bin=S` feeds the counter one frame per S seconds,
its field the mean of the fields in that time (the small-step fields summed, per second).
`norm=` normalises each lag's covariance by the windows' whole energy (`energy`: cosine-like, a
window whose motion is mostly its mean, as a slow rep seen over 0.5 s is, correlates weakly) or
halfway (`mixed`: by √(spread × energy)) instead of their spread about the mean (Pearson's, shipped).
FPS `file` replays warm_flow.py's shipped file cache as files are counted.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

import flowrep.counter as counter_module
import flowrep.similarity as similarity
from flowrep.conditions import WebcamConditions
from flowrep.counter import CounterSettings
from flowrep.model import use_one_thread
from flowrep.periodicity import EvidenceSettings
from scripts import tune_evidence

DATA = Path("/work/shared/data")


def _cache(fps: float) -> Path:
    """/tmp/fps-FPS, or for 10 (the shipped webcam) and 0 (each clip at its own frame rate, no JPEG,
    as `flowrep workout` feeds a clip) warm_flow.py's shipped caches counted live."""
    if fps == 10:
        return Path("/tmp/warm-shipped")
    if fps == 0:
        return Path("/tmp/warm-shipped/file-as-webcam")
    return Path(f"/tmp/fps-{fps:g}")


def record(fps: float, folders: list[str]) -> None:
    tune_evidence.WebcamConditions = functools.partial(WebcamConditions, fps=fps)  # type: ignore[misc]
    tune_evidence.record(DATA, _cache(fps), tuple(folders), ("webcam",))


_shipped_phase_now = counter_module.RepCounter._phase_now
FIRST = "shipped"
BIN_S = 0.0


def _phase_now(self):
    """RepCounter._phase_now with the first reps' rule as FIRST says."""
    if FIRST == "shipped":
        return _shipped_phase_now(self)
    final = self._follow_final()
    phase = counter_module._Phase()
    phase.value, phase.began_s = final.value, final.began_s
    provisional = self._evidence.provisional()
    crossings = counter_module._advance(phase, provisional, self._evidence.frame_s or 0.0)
    if self.count == 0:
        if FIRST.startswith("settle:"):
            now = self._last_t or 0.0
            old = float(FIRST.split(":")[1])
            if final.began_s is None and not any(e.repeating for e in provisional if e.time_s <= now - old):
                return counter_module._Phase(), []
        else:
            strengths = [e.strength for e in self._evidence.evidence if e.repeating]
            if FIRST == "final-any":
                confirmed = bool(strengths)
            else:
                clear = bool(strengths) and float(np.median(strengths)) >= self.settings.first_strength
                confirmed, self._clear_before = clear and self._clear_before, clear
            if not confirmed:
                return counter_module._Phase(), []
    return phase, self._crossings + crossings


def _binned(clip) -> dict[str, np.ndarray]:
    """The clip's inputs one frame per BIN_S seconds: the mean of the fields (and probabilities) in each."""
    t, p, f, h, r = clip["t"], clip["p"], clip["fields"], clip["has_field"], clip["repeated"]
    slot = np.floor((t - t[0]) / BIN_S + 1e-9).astype(int)
    out: dict[str, list] = {"t": [], "p": [], "fields": [], "has_field": [], "repeated": []}
    for number in np.unique(slot):
        inside = slot == number
        moving = inside & h & ~r
        out["t"].append(t[inside][-1])
        out["p"].append(p[inside].mean(axis=0))
        out["fields"].append(f[moving].mean(axis=0) if moving.any() else np.zeros_like(f[0]))
        out["has_field"].append(bool(moving.any()))
        out["repeated"].append(not moving.any() and bool(r[inside].all()))
    return {key: np.array(value) for key, value in out.items()}


NORM = "spread"


_shipped_profile = similarity.SelfSimilarity._profile


def _varying_share(self: similarity.SelfSimilarity, end: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per lag, the share of a window's energy that is its spread about its own mean."""
    sums = self._sums[end] - self._sums[start]
    energy = self._energy[end] - self._energy[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(1.0 - np.einsum("ij,ij->i", sums, sums) / self.windows / energy, 0.0, 1.0)


def _profile(self: similarity.SelfSimilarity, t: int) -> np.ndarray:
    """SelfSimilarity._profile (Pearson's, by the windows' spread) rescaled to the normalisation NORM
    says: by the windows' whole energy (× √(share here × share earlier)), or halfway (× its √)."""
    here = _varying_share(self, self._rows(np.array([t])), self._rows(t - self.windows))
    earlier = _varying_share(self, self._rows(t - self.lags), self._rows(t - self.lags - self.windows))
    power = 0.5 if NORM == "energy" else 0.25
    return _shipped_profile(self, t) * (here * earlier) ** power


def settings_from(pairs: list[str]) -> CounterSettings:
    global FIRST, BIN_S, NORM
    evidence_names = {f.name for f in fields(EvidenceSettings)}
    evidence, counter = {}, {}
    for pair in pairs:
        name, value = pair.split("=")
        if name == "first":
            FIRST = value
            counter_module.RepCounter._phase_now = _phase_now  # type: ignore[method-assign]
        elif name == "bin":
            BIN_S = float(value)
        elif name == "norm":
            NORM = value
            similarity.SelfSimilarity._profile = _profile  # type: ignore[method-assign]
        elif name == "fewest_pairs":
            similarity._FEWEST_PAIRS = int(value)
        elif name in evidence_names:
            evidence[name] = float(value)
        else:
            counter[name] = float(value)
    return CounterSettings(evidence=replace(EvidenceSettings(), **evidence), **counter)


def replay(fps: float | None, pairs: list[str], per_clip: bool) -> None:
    """Live replays of the webcam cache at `fps`, or (None) file replays of the shipped file cache."""
    settings = settings_from(pairs)
    cache = Path("/tmp/warm-shipped/file") if fps is None else _cache(fps) / "webcam"
    for folder in ("exercise", "quva", "jumprope"):
        rows = []
        for path in sorted((cache / folder).glob("*.npz")):
            clip = np.load(path)
            inputs = _binned(clip) if BIN_S else clip
            rows.append((int(clip["true"]), tune_evidence.replay(inputs, settings, live=fps is not None)))
            if per_clip and rows[-1][0] != rows[-1][1]:
                print(f"  {path.stem} {rows[-1][1]} of {rows[-1][0]}")
        if rows:
            figures = tune_evidence.half_figures(rows)
            where = "file" if fps is None else f"{fps:g} fps"
            print(f"{where} {' '.join(pairs) or 'shipped'} {folder}: {figures}", flush=True)


def main() -> int:
    use_one_thread()
    per_clip = "-v" in sys.argv
    args = [a for a in sys.argv[1:] if a != "-v"]
    if args[0] == "record":
        record(float(args[1]), args[2:])
    else:
        replay(None if args[1] == "file" else float(args[1]), args[2:], per_clip)
    return 0


if __name__ == "__main__":
    sys.exit(main())
