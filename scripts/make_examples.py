"""Renders the demo page's example clips into examples/ with flowrep.synth, and checks their counts.

    python scripts/make_examples.py [--out examples] [--signal cnn|mean-flow]

Each clip is a few seconds of one synthetic figure exercising, H.264 at a small size, named after
its exercise and true rep count. The script prints the engine's count next to the truth, so a
clip the engine gets wrong is not shipped by accident (pick another seed in CLIPS).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from democlips import exercise_named, write_mp4  # noqa: E402

from flowrep.pipeline import Session, count_clip  # noqa: E402
from flowrep.synth import render_clip  # noqa: E402

#: (exercise, seed, seconds): chosen so that the clips are short, varied, and counted right.
CLIPS = (("squat", 5, 8.0), ("curl", 9, 8.0), ("push_up", 7, 8.0), ("jumping_jack", 7, 7.0))
LONG_SIDE = 480


def render(exercise: str, seed: int, seconds: float, out: Path) -> tuple[Path, int]:
    clip = render_clip(np.random.default_rng(seed), exercise_named(exercise), seconds=seconds, long_side=LONG_SIDE)
    path = out / f"{exercise}_{clip.reps}reps.mp4"
    write_mp4(clip.frames, clip.fps, path, crf=26)
    return path, clip.reps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "examples"))
    parser.add_argument("--signal", choices=("cnn", "mean-flow"), default="cnn")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    session = Session(args.signal)
    wrong = 0
    for exercise, seed, seconds in CLIPS:
        path, true = render(exercise, seed, seconds, out)
        counted = count_clip(path, session).count
        wrong += counted != true
        print(
            f"{path.name:28s} true {true:3d}  counted {counted:3d}  {path.stat().st_size / 1e3:6.0f} kB"
            f"{'' if counted == true else '  <- WRONG'}"
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
