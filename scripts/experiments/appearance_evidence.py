"""Session 16 (issue 19): appearance self-similarity for webcam conditions, on the tune protocol.

    PYTHONPATH=. python scripts/experiments/appearance_evidence.py record MODE FOLDER [FOLDER ...]
    PYTHONPATH=. python scripts/experiments/appearance_evidence.py replay file,webcam [VARIANT ...]

`record` runs each clip once through the engine as `scripts/tune_evidence.py` does (cache
/tmp/flowrep-appear/MODE/FOLDER/CLIP.npz, the same arrays) and also keeps a 24×24 grey thumbnail of
every frame the session sees (the whole frame, after the webcam conditions). `replay` counts the
recorded inputs (a file's as a file, a webcam's live) with the evidence's feature swapped:
`flowrep.counter.motion_features` made the identity and the feature computed here per frame; frames
without flow (the first) or repeating the last stay featureless, as shipped.
"""

from __future__ import annotations

import csv
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np

import flowrep.counter as counter_module
import flowrep.pipeline as pipeline
from flowrep.conditions import WebcamConditions
from flowrep.counter import RepCounter
from flowrep.model import use_one_thread
from flowrep.periodicity import motion_features
from scripts import tune_evidence

CACHE = Path("/tmp/flowrep-appear")
DATA = Path("/work/shared/data")
FOLDERS = ("exercise", "quva", "jumprope")
_seen: list[np.ndarray] = []  # the thumbnail of the frame the session is processing


class _Recording(tune_evidence._Recording):
    """tune_evidence's recording counter that also keeps the thumbnail of each frame it is fed."""

    thumbs: list[np.ndarray] = []

    def update(self, t, probabilities, features=None, repeated=False):
        _Recording.thumbs.append(_seen[-1])
        return super().update(t, probabilities, features, repeated)


def record(mode: str, folders: list[str]) -> None:
    process = pipeline.Session.process

    def seeing(self, frame, time_s):
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        _seen.append(cv2.resize(grey, (24, 24), interpolation=cv2.INTER_AREA).astype(np.float32))
        return process(self, frame, time_s)

    pipeline.Session.process = seeing  # type: ignore[method-assign]
    pipeline.RepCounter = _Recording  # type: ignore[misc]
    session = pipeline.Session()
    for folder in folders:
        for row in csv.DictReader((DATA / folder / "labels.csv").open()):
            out = CACHE / mode / folder / f"{row['file']}.npz"
            if out.exists():
                continue
            tune_evidence._Recording.frames, _Recording.thumbs = [], []
            transform = WebcamConditions() if mode == "webcam" else None
            pipeline.count_clip(DATA / folder / row["file"], session, transform=transform)
            frames, thumbs = tune_evidence._Recording.frames, np.stack(_Recording.thumbs)
            tune_evidence.save_recording(out, frames, int(row["count"]), thumbs=thumbs)
            print(f"recorded {mode} {folder}/{row['file']}", flush=True)


def _unit(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    return x / (np.linalg.norm(x) + 1e-9)


def _appearance(thumb: np.ndarray, side: int) -> np.ndarray:
    """The grey frame pooled to side × side, less its mean, at unit energy."""
    return _unit(thumb.reshape(side, 24 // side, side, 24 // side).mean(axis=(1, 3)).ravel())


def features(clip, variant: str) -> list[np.ndarray | None]:
    """Per frame: the feature the evidence receives under `variant`, None where it receives none."""
    out: list[np.ndarray | None] = []
    energy, n, last = 0.0, 0, None
    a_sum, a_energy, a_n = 0.0, 0.0, 0
    for field, has_field, repeated, thumb in zip(clip["fields"], clip["has_field"], clip["repeated"], clip["thumbs"]):
        if not has_field or repeated:
            out.append(None)
            continue
        flow = motion_features(field)
        if variant == "flow":
            out.append(flow)
            continue
        kind, side, w = variant.split(":")
        app = _appearance(thumb, int(side))
        if kind == "diff":  # temporal difference of the appearance since the last featured frame
            app, last = (np.zeros_like(app) if last is None else app - last), app
        if kind == "zapp":  # at unit temporal RMS so far (causal; floor 1e-3)
            a_sum, a_energy, a_n = a_sum + app, a_energy + float(app @ app), a_n + 1
            app = app / np.sqrt(max(a_energy / a_n - float((a_sum / a_n) @ (a_sum / a_n)), 0.0) + 1e-3)
        if float(w) == 0:
            out.append(app)
            continue
        energy, n = energy + float(flow @ flow), n + 1  # the flow at unit RMS so far (causal)
        out.append(np.concatenate([flow / np.sqrt(energy / n + 1e-9), float(w) * app]))
    return out


def replay(clip, variant: str, live: bool) -> int:
    counter = RepCounter(live=live)
    for t, p, f, r in zip(clip["t"], clip["p"], features(clip, variant), clip["repeated"]):
        counter.update(float(t), p, f, bool(r))
    counter.finish()
    return counter.count


def report(modes: list[str], variants: list[str]) -> None:
    counter_module.motion_features = lambda f: f  # the features come computed (see `features`)
    print("variant   mode   folder    | MAE A  OBO A | MAE B  OBO B | MAE all OBO all | objective A / B")
    for variant in variants:
        lines, objective = [], {0: [], 1: []}
        for mode, folder in itertools.product(modes, FOLDERS):
            paths = sorted((CACHE / mode / folder).glob("*.npz"))
            if not paths:
                continue
            rows = []
            for path in paths:
                clip = np.load(path)
                rows.append((int(clip["true"]), replay(clip, variant, live=mode == "webcam")))
            err = np.array([abs(p - t) / t for t, p in rows])
            ok = np.array([abs(p - t) <= 1 for t, p in rows])
            cells = [f"{err[h::2].mean():.3f}  {ok[h::2].mean():.2f} " for h in (0, 1)]
            lines.append(
                f"{variant:9s} {mode:6s} {folder:9s} | {cells[0]} | {cells[1]} | {err.mean():.3f}   {ok.mean():.2f}"
            )
            if folder != "jumprope":
                for h in (0, 1):
                    objective[h].append(err[h::2].mean())
        print("\n".join(lines))
        print(
            f"{variant:9s} objective (mean of the exercise/QUVA MAEs present): "
            f"{np.mean(objective[0]):.4f} / {np.mean(objective[1]):.4f}",
            flush=True,
        )


if __name__ == "__main__":
    use_one_thread()
    if sys.argv[1] == "record":
        record(sys.argv[2], sys.argv[3:])
    else:
        modes = sys.argv[2].split(",")  # file,webcam
        report(modes, sys.argv[3:] or ["flow", "app:8:0", "app:12:0", "diff:12:0", "app:12:0.5", "app:12:1"])
