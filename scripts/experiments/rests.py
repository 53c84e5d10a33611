"""Session 29: a rest ends a set. Clips filmed with the still scene around the set, and two sets
joined by a rest, counted with `CounterSettings.rest_s` (inf: no rest ends a set, the counter before
session 29). A replay experiment; see docs/experiments.md, "Session 29".

    PYTHONPATH=. python scripts/experiments/rests.py make            # the clips, under /tmp/flowrep-rests
    PYTHONPATH=. python scripts/experiments/rests.py record          # their counter inputs (file, webcam seed 0)
    python scripts/replay_counts.py record                           # the dev clips as cut
    PYTHONPATH=. python scripts/experiments/rests.py replay 2 3 5 inf

`make` writes, from ../shared/data: `still_exercise`, `still_quva` (each clip with 4 s of its first
and last pictures held before and after it, ffmpeg's temporal noise over the whole clip, H.264) and
`joined_exercise`, `joined_quva` (two clips of one half, 640x360 at 30 frames/s, joined by 4 s of the
first one's last picture held, with the same noise; the count is the sum). `bench --still` measures
the first condition with the engine's own transform; this script is how the setting was chosen.
Halves: clips sorted by name alternate A, B (a joined clip takes two clips of one half).
"""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

from flowrep.counter import CounterSettings
from scripts import tune_evidence

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
OUT = Path("/tmp/flowrep-rests")
CACHE = OUT / "cache"
NOISE = "noise=alls=3:allf=t"
FIT = "scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,fps=30,setsar=1"
FOLDERS = ("still_exercise", "still_quva", "joined_exercise", "joined_quva")


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


def _rows(folder: str) -> list[dict[str, str]]:
    return sorted(csv.DictReader((DATA / folder / "labels.csv").open()), key=lambda row: row["file"])


def make() -> None:
    for folder in ("exercise", "quva"):
        still, joined = OUT / f"still_{folder}", OUT / f"joined_{folder}"
        still.mkdir(parents=True, exist_ok=True)
        joined.mkdir(parents=True, exist_ok=True)
        rows = _rows(folder)
        hold = "tpad=start_mode=clone:start_duration=4:stop_mode=clone:stop_duration=4"
        for row in rows:
            _ffmpeg(
                "-i",
                str(DATA / folder / row["file"]),
                "-vf",
                f"{hold},{NOISE}",
                "-an",
                "-crf",
                "18",
                "-pix_fmt",
                "yuv420p",
                str(still / row["file"]),
            )
        (still / "labels.csv").write_text("file,count\n" + "".join(f"{r['file']},{r['count']}\n" for r in rows))
        lines = ["file,count\n"]
        for half, members in (("A", rows[0::2]), ("B", rows[1::2])):
            for k in range(0, len(members) - 1, 2):
                first, second = members[k], members[k + 1]
                name = f"{half}_{Path(first['file']).stem}+{Path(second['file']).stem}.mp4"
                graph = (
                    f"[0:v]{FIT},tpad=stop_mode=clone:stop_duration=4[a];[1:v]{FIT}[b];[a][b]concat=n=2:v=1,{NOISE}[v]"
                )
                _ffmpeg(
                    "-i",
                    str(DATA / folder / first["file"]),
                    "-i",
                    str(DATA / folder / second["file"]),
                    "-filter_complex",
                    graph,
                    "-map",
                    "[v]",
                    "-crf",
                    "20",
                    "-pix_fmt",
                    "yuv420p",
                    str(joined / name),
                )
                lines.append(f"{name},{int(first['count']) + int(second['count'])}\n")
        (joined / "labels.csv").write_text("".join(lines))
        print(f"made {still} and {joined}", flush=True)


def record() -> None:
    tune_evidence.record(OUT, CACHE, folders=FOLDERS)


def half_of(path: Path, index: int) -> str:
    """A recorded clip's half: a joined clip's is in its name, the others alternate by name."""
    return path.stem[0] if path.stem[:2] in ("A_", "B_") else "AB"[index % 2]


def replay(rests: list[float]) -> None:
    runs = [(CACHE, mode, folder) for mode in ("file", "webcam") for folder in FOLDERS]
    runs += [
        (Path("/tmp/flowrep-tune"), mode, folder) for mode in ("file", "webcam") for folder in ("exercise", "quva")
    ]
    for cache, mode, folder in runs:
        paths = sorted((cache / mode / folder).glob("*.npz"))
        cells = []
        for rest in rests:
            errors: dict[str, list[float]] = {"A": [], "B": []}
            for index, path in enumerate(paths):
                clip = np.load(path)
                counted = tune_evidence.replay(clip, CounterSettings(rest_s=rest), live=mode == "webcam")
                errors[half_of(path, index)].append(abs(counted - int(clip["true"])) / int(clip["true"]))
            every = errors["A"] + errors["B"]
            cells.append(
                f"{rest:g}: A {np.mean(errors['A']):.3f} B {np.mean(errors['B']):.3f} all {np.mean(every):.3f}"
            )
        print(f"{mode:6s} {folder:16s} " + " | ".join(cells), flush=True)


def main() -> int:
    command, *values = sys.argv[1:] or ["replay"]
    if command == "make":
        make()
    elif command == "record":
        record()
    else:
        replay([float(v) if v != "inf" else math.inf for v in values] or [3.0, math.inf])
    return 0


if __name__ == "__main__":
    sys.exit(main())
