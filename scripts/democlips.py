"""Scripted synthetic clips for the demo's tests and measurements, and the clip writers they use.

`flowrep.synth.render_clip` randomises tempo, pauses and framing (right for training and for the
shipped examples); the browser tests need the opposite: a known number of reps at a known tempo,
with still time before and after, so a looping fake camera can be timed. This module draws the
same articulated figures (from flowrep.synth) on a fixed schedule and writes clips as H.264 mp4,
VP8 webm, Y4M (Chromium's fake camera) or MJPEG.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from flowrep.synth import EXERCISES, LIMBS, Exercise


def exercise_named(name: str) -> Exercise:
    for exercise in EXERCISES:
        if exercise.name == name:
            return exercise
    raise ValueError(f"unknown exercise {name!r}")


def phase_schedule(reps: int, period_s: float, lead_in_s: float, tail_s: float, fps: float) -> np.ndarray:
    """Cycle phase per frame: still, then `reps` whole cycles, then still again."""
    total = lead_in_s + reps * period_s + tail_s
    times = np.arange(int(round(total * fps))) / fps
    return np.clip((times - lead_in_s) / period_s, 0.0, float(reps))


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    ramp = np.linspace(60, 150, height, dtype=np.float32)[:, None, None]
    image = np.broadcast_to(ramp * np.array([1.0, 0.9, 0.8], np.float32), (height, width, 3)).copy()
    for _ in range(6):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, width // 3)), y0 + int(rng.integers(20, height // 3))
        cv2.rectangle(image, (x0, y0), (x1, y1), tuple(float(c) for c in rng.integers(0, 256, 3)), -1)
    return image.astype(np.uint8)


def iter_scripted_clip(
    exercise: str = "squat",
    reps: int = 3,
    period_s: float = 2.2,
    lead_in_s: float = 3.0,
    tail_s: float = 6.0,
    fps: float = 15.0,
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    noise: float = 2.0,
) -> Iterator[np.ndarray]:
    """BGR frames of one figure doing exactly `reps` reps, with optional sensor noise (σ, grey levels)."""
    rng = np.random.default_rng(seed)
    width, height = size
    move = exercise_named(exercise)
    background = _background(rng, width, height)
    body_px = 0.8 * min(width, height)
    centre = np.array([width / 2, height * 0.45])
    colours = [(40, 40, 200), (30, 160, 40), (200, 120, 30)]
    for phase in phase_schedule(reps, period_s, lead_in_s, tail_s, fps):
        pose = move.pose(float(phase % 1.0))
        screen = {k: (centre + v * body_px).astype(int) for k, v in pose.items()}
        frame = background.copy()
        for k, (a, b, w) in enumerate(LIMBS):
            width_px = max(1, int(w * body_px))
            cv2.line(frame, tuple(screen[a]), tuple(screen[b]), colours[k % 3], width_px, cv2.LINE_AA)
        cv2.circle(frame, tuple(screen["head"]), int(0.06 * body_px), colours[0], -1, cv2.LINE_AA)
        if noise:
            frame = np.clip(frame + rng.normal(0, noise, frame.shape).astype(np.float32), 0, 255).astype(np.uint8)
        yield frame


def scripted_clip(*args, **kwargs) -> list[np.ndarray]:
    """iter_scripted_clip's frames as a list (for short clips)."""
    return list(iter_scripted_clip(*args, **kwargs))


def write_mp4(frames: Iterable[np.ndarray], fps: float, path: Path, crf: int = 28) -> Path:
    """H.264 (yuv420p, faststart) through imageio-ffmpeg's bundled ffmpeg: plays in every browser."""
    frames = iter(frames)
    first = next(frames)
    height, width = first.shape[:2]
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (width, height),
        pix_fmt_in="bgr24",
        fps=fps,
        codec="libx264",
        macro_block_size=2,
        output_params=["-preset", "veryfast", "-crf", str(crf), "-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    writer.send(np.ascontiguousarray(first))
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def write_opencv(frames: list[np.ndarray], fps: float, path: Path, fourcc: str) -> Path:
    """Any container OpenCV can write: 'VP80' for .webm, 'mp4v' for .mp4, 'MJPG' for .avi/.mov."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_y4m(frames: Iterable[np.ndarray], fps: float, path: Path) -> Path:
    """Uncompressed YUV4MPEG2, the format Chromium's --use-file-for-fake-video-capture plays (looped)."""
    frames = iter(frames)
    first = next(frames)
    height, width = first.shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{int(round(fps))}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in itertools.chain([first], frames):
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def transcode(source: Path, path: Path, output_options: list[str], input_options: list[str] = ()) -> Path:
    """Rewrites a clip with the bundled ffmpeg, e.g. a phone-style clip: landscape pixels that a
    display matrix turns portrait (input_options=["-display_rotation", "90"], output_options=["-c", "copy"])."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            *input_options,
            "-i",
            str(source),
            *output_options,
            str(path),
        ],
        check=True,
    )
    return path
