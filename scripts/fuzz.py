"""A fuzz run of the hardening promises: bad and odd inputs against the CLI and a live server's /count.

    python scripts/fuzz.py [--flips 40] [--cuts 20] [--seed 0] [--work DIR]

Makes the inputs (`make_inputs`: every kind the hardening issue probed — frames too wide or too thin,
a playlist naming a file on the server, text, an image, an empty file, one frame — plus random byte
flips and truncations of a generated squat clip), counts them all with one `flowrep count` process,
then one by one through a live app's /count, and prints what happened. What must hold (`Report.ok`):
no process crashed, each input got a count or one clear line naming it (no traceback, no server
path), the server still counts a good clip afterwards, and nothing was left on disk (no run folder's
file, no empty temp file). tests/test_fuzz.py runs a small budget of the same.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import democlips  # noqa: E402
from apprunner import ROOT, running_app  # noqa: E402

#: Where a message would give away the server's files.
SERVER_PATH = re.compile(r"(/tmp/|/root/|/home/|flowrep-runs|gradio/)")


@dataclass
class Report:
    """What one channel (the CLI or the server) made of the inputs."""

    channel: str
    tried: int = 0
    counted: int = 0
    refused: int = 0
    crashes: list[str] = field(default_factory=list)
    unclear: list[str] = field(default_factory=list)  # inputs without one clear line, or a line with a path
    leftovers: list[str] = field(default_factory=list)
    still_answers: bool = True

    @property
    def ok(self) -> bool:
        return not self.crashes and not self.unclear and not self.leftovers and self.still_answers

    def line(self) -> str:
        return (
            f"{self.channel}: {self.tried} inputs, {self.counted} counted, {self.refused} refused, "
            f"crashes {len(self.crashes)}, unclear {len(self.unclear)}, leftovers {len(self.leftovers)}, "
            f"answers afterwards: {'yes' if self.still_answers else 'NO'}"
        )


def _noise_clip(path: Path, width: int, height: int, frames: int = 6) -> Path:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return democlips.write_opencv([np.roll(base, 2 * k, axis=1) for k in range(frames)], 10.0, path, "mp4v")


def good_clip(folder: Path) -> Path:
    """A short squat clip (3 reps) that every channel counts."""
    frames = democlips.scripted_clip(
        "squat", reps=3, period_s=1.2, lead_in_s=0.5, tail_s=0.5, fps=15.0, size=(320, 240)
    )
    return democlips.write_mp4(frames, 15.0, folder / "good.mp4")


def make_inputs(folder: Path, flips: int, cuts: int, seed: int = 0) -> list[Path]:
    """The inputs, written into `folder` (a good clip first, then the bad and odd ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    good = good_clip(folder)
    data = good.read_bytes()
    secret = folder / "server-secret.mp4"  # a file "on the server" that a playlist names
    secret.write_bytes(data)
    playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{secret}\n#EXT-X-ENDLIST\n"
    made = [
        good,
        _noise_clip(folder / "wide_1280x240.mp4", 1280, 240),
        _noise_clip(folder / "thin_1000x8.mp4", 1000, 8),
        _noise_clip(folder / "tall_240x1280.mp4", 240, 1280),
    ]
    named = {
        "playlist.m3u8": playlist.encode(),
        "playlist_named.mp4": playlist.encode(),
        "notes.mp4": b"my workout notes\n" * 4,
        "photo.mp4": cv2.imencode(".png", np.zeros((64, 64, 3), np.uint8))[1].tobytes(),
        "empty.mp4": b"",
        "header_only.mp4": data[:64],
    }
    for name, content in named.items():
        (folder / name).write_bytes(content)
        made.append(folder / name)
    for k in range(flips):
        flipped = bytearray(data)
        for offset in rng.integers(0, len(data), int(rng.integers(1, 65))):
            flipped[offset] ^= 1 << int(rng.integers(0, 8))
        made.append(folder / f"flip_{k:03d}.mp4")
        made[-1].write_bytes(bytes(flipped))
    for k in range(cuts):
        made.append(folder / f"cut_{k:03d}.mp4")
        made[-1].write_bytes(data[: int(len(data) * rng.uniform(0.02, 0.99))])
    return made


def fuzz_cli(inputs: list[Path], timeout_s: float = 600.0) -> Report:
    """All inputs through one `flowrep count --json` process: a crash stops it, so it says so at once."""
    report = Report("CLI", tried=len(inputs))
    done = subprocess.run(
        [sys.executable, "-m", "flowrep.cli", "count", "--json", *map(str, inputs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if done.returncode not in (0, 2):
        report.crashes.append(f"exit {done.returncode}: {done.stderr[-500:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    counted = {line["file"] for line in lines if "count" in line}
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    if any("Traceback" in line for line in errors):
        report.unclear.append("a traceback: " + done.stderr[-500:])
    for path in inputs:
        mine = [line for line in errors if line.startswith(f"flowrep: {path}: ") and ": warning: " not in line]
        if str(path) in counted:
            report.counted += 1
        elif len(mine) == 1:
            report.refused += 1
        else:
            report.unclear.append(f"{path.name}: {len(mine)} lines")
    strays = [line for line in errors if not any(line.startswith(f"flowrep: {p}: ") for p in inputs)]
    report.unclear += [f"a line naming no input: {line[:200]}" for line in strays]
    return report


def fuzz_server(inputs: list[Path], work: Path) -> Report:
    """Each input through a live app's /count (gradio_client), one by one, then a good clip again."""
    from gradio_client import Client, handle_file

    report = Report("server /count", tried=len(inputs))
    with running_app(work) as server:
        client = Client(server.url, verbose=False)
        for path in inputs:
            try:
                client.predict(handle_file(str(path)), api_name="/count")
                report.counted += 1
            except Exception as error:  # the app's gr.Error arrives as gradio_client's AppError
                message = str(error)
                if server.process.poll() is not None:
                    report.crashes.append(f"{path.name}: the server exited ({server.process.returncode})")
                    break
                clear = message.startswith(f"Could not count {path.name}: ") and "\n" not in message
                if not clear or SERVER_PATH.search(message):
                    report.unclear.append(f"{path.name}: {message[:300]}")
                else:
                    report.refused += 1
        good = inputs[0]
        try:
            report.still_answers = client.predict(handle_file(str(good)), api_name="/count")["count"] >= 0
        except Exception:
            report.still_answers = False
        report.leftovers = leftovers(work / "gradio", inputs)
    return report


def leftovers(temp_dir: Path, inputs: list[Path]) -> list[str]:
    """Files the app left in its temp dir: any in its run folders, and any empty file but the cached
    uploads themselves (Gradio's upload cache keeps each upload, under its own name, until the janitor's
    age and size limits take it; the empty input stays empty there)."""
    runs = temp_dir / "flowrep-runs"
    left = [p for p in runs.rglob("*") if p.is_file()] if runs.is_dir() else []
    uploaded = {p.name for p in inputs}
    left += [p for p in temp_dir.rglob("*") if p.is_file() and p.stat().st_size == 0 and p.name not in uploaded]
    return [str(p.relative_to(temp_dir)) for p in left]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=40, help="clips with random bytes flipped")
    parser.add_argument("--cuts", type=int, default=20, help="clips cut at a random length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", help="a folder for the inputs and the server (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowrep-fuzz-") as scratch:
        work = Path(args.work or scratch)
        inputs = make_inputs(work / "inputs", args.flips, args.cuts, args.seed)
        reports = [fuzz_cli(inputs), fuzz_server(inputs, work / "server")]
    for report in reports:
        print(report.line())
        for problem in [*report.crashes, *report.unclear, *report.leftovers]:
            print(f"  {problem}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
