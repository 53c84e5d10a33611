"""Video input: opening and validating clips, and streaming their frames with timestamps.

Owns every decision about what counts as a usable clip and the one-line messages users see when it
is not: one allow-list of containers (recognised by the file's first bytes, never its name) and video
codecs, one set of frame-shape limits (a clip's frames over full HD, a phone's 4K, are shrunk to
full HD as they are read), enough frames, one frame size. Frames are read on a background
thread into a small bounded queue, so decoding overlaps processing and memory stays flat.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # ffmpeg's per-packet warnings are noise to users

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

if "OPENCV_LOG_LEVEL" not in os.environ:
    # A damaged file makes OpenCV log "[ERROR] ... Could not find decoder" lines of its own, next to the
    # one clear line this module gives; set at run time, whichever module imported cv2 first.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

#: Largest frame counted, as (long side, short side): full HD in either orientation. A camera's frames
#: must fit it; a clip's larger frames are shrunk to fit it as they are decoded.
MAX_FRAME_SIDES = (1920, 1080)
#: Largest frame of a clip decoded: 4K (DCI) in either orientation, as phones record.
MAX_CLIP_FRAME_SIDES = (4096, 2160)
#: Smallest side of a frame accepted, in pixels: below it there is too little picture to count.
MIN_FRAME_SIDE = 64
#: Longest side over shortest side accepted: a wider strip holds no person, and shrinks to a flow grid
#: too thin for the flow (OpenCV's DIS crashes the process on a 128×28 grid).
MAX_ASPECT = 4.0
#: Video codecs accepted, as OpenCV's FFmpeg backend names them (lower case): H.264, H.265, MPEG-4
#: part 2, VP8, VP9, AV1 and Motion JPEG, what cameras, phones and browsers record.
ACCEPTED_CODECS = frozenset(
    {
        "h264",
        "avc1",
        "hevc",
        "hev1",
        "hvc1",
        "h265",
        "fmp4",
        "mp4v",
        "xvid",
        "divx",
        "dx50",
        "vp80",
        "vp90",
        "vp08",
        "vp09",
        "av01",
        "mjpg",
    }
)
ACCEPTED_CONTAINERS_TEXT = "mp4, mov, m4v, webm, mkv or avi"
#: Frame rate assumed when a container does not say (or says something absurd).
FALLBACK_FPS = 30.0
#: Longest clip counted by the page and `flowrep count` unless told otherwise, in seconds.
DEFAULT_MAX_CLIP_S = 600.0
#: Frames a clip may fall short of its header's length before it is called cut: headers that do not
#: list their frames give a length that is rounded, or that counts the last frame's duration.
CUT_END_TOLERANCE_FRAMES = 2.0
#: Share of the header's length that, when missing, makes a clip refused rather than counted with a warning.
REFUSED_MISSING_SHARE = 0.1
_PREFETCH_FRAMES = 8


class VideoError(Exception):
    """A clip that cannot be counted; str() is the one-line message for the CLI's user, with the path
    as given. `problem` never holds a path: the page and /count show it with the file's name."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(frozen=True)
class ClipInfo:
    path: str
    width: int
    height: int
    fps: float
    frame_count: int  # as the container claims; 0 when it does not say

    @property
    def duration_s(self) -> float | None:
        """The clip's length as its header says, or None when it does not say."""
        return self.frame_count / self.fps if self.frame_count else None


@dataclass(frozen=True)
class Frame:
    index: int
    time_s: float
    image: np.ndarray  # BGR uint8, H×W×3


def frame_shape_problem(width: int, height: int, limit: tuple[int, int] = MAX_FRAME_SIDES) -> str | None:
    """Why frames of this size cannot be counted (or, with a clip's `limit`, decoded), or None if they can."""
    long_limit, short_limit = limit
    long_side, short_side = max(width, height), min(width, height)
    if long_side > long_limit or short_side > short_limit:
        return (
            f"frames are {width}×{height}, larger than the {long_limit}×{short_limit} limit; downscale the clip first"
        )
    if short_side < MIN_FRAME_SIDE:
        return f"frames are {width}×{height}, smaller than {MIN_FRAME_SIDE} pixels on a side"
    if long_side > MAX_ASPECT * short_side:
        return f"frames are {width}×{height}, more than {MAX_ASPECT:g} times as wide as high (or high as wide)"
    return None


def check_frame_size(path: str | os.PathLike, width: int, height: int) -> None:
    if problem := frame_shape_problem(width, height, MAX_CLIP_FRAME_SIDES):
        raise VideoError(path, problem)


def counted_size(width: int, height: int) -> tuple[int, int]:
    """The size a clip's frames are counted at: their own, or shrunk (same shape) to fit MAX_FRAME_SIDES."""
    long_limit, short_limit = MAX_FRAME_SIDES
    scale = min(1.0, long_limit / max(width, height), short_limit / min(width, height))
    return (width, height) if scale == 1.0 else (round(width * scale), round(height * scale))


# The first bytes of the containers accepted. ISO media (mp4, mov, m4v) opens with a box whose type
# is at bytes 4–8; Matroska (webm, mkv) with the EBML magic; AVI with a RIFF header of form "AVI ".
_ISO_FIRST_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")
_MATROSKA_MAGIC = b"\x1aE\xdf\xa3"
# What some refused files are, to say so in the message.
_KNOWN_OTHERS = (
    (b"#EXTM3U", "a playlist (m3u8)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive"),
)


def container_of(head: bytes) -> str | None:
    """The container a file's first bytes (at least 12) announce, if it is one accepted."""
    if len(head) >= 12 and head[4:8] in _ISO_FIRST_BOXES:
        return "iso-media"
    if head.startswith(_MATROSKA_MAGIC):
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def _refused_content(head: bytes) -> str:
    what = next((name for magic, name in _KNOWN_OTHERS if head.lstrip().startswith(magic)), None)
    if what is None:
        what = "text" if head and all(b in b"\t\n\r" or 32 <= b < 127 for b in head) else "not a video"
    return f"this file is {what}, not a video we accept ({ACCEPTED_CONTAINERS_TEXT})"


def _codec_name(capture: cv2.VideoCapture) -> str:
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
    return fourcc.to_bytes(4, "little").decode("latin-1").strip("\x00 ").lower()


def _open(path: str | os.PathLike, decoder_threads: int = 1) -> cv2.VideoCapture:
    file = Path(path)
    if not file.exists():
        raise VideoError(path, "no such file")
    if not file.is_file():
        raise VideoError(path, "not a file")
    if file.stat().st_size == 0:
        raise VideoError(path, "the file is empty")
    with file.open("rb") as handle:
        head = handle.read(64)
    if container_of(head) is None:  # by content: a playlist named .mp4 would make FFmpeg read other files
        raise VideoError(path, _refused_content(head))
    # One decoding thread: frames are already decoded on a thread of their own, beside the counting;
    # ffmpeg's extra threads spent a quarter more CPU for the same frames, which 2 cores cannot spare.
    # Frames larger than full HD are the exception (ClipReader): decoding them is most of the work.
    capture = cv2.VideoCapture(str(file), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, decoder_threads])
    if not capture.isOpened():
        raise VideoError(path, "not a readable video (unknown format, or a damaged or truncated file)")
    codec = _codec_name(capture)
    if codec not in ACCEPTED_CODECS:
        capture.release()
        raise VideoError(
            path,
            f"its video codec ({codec or 'unknown'}) is not one we accept "
            "(H.264, H.265, MPEG-4, VP8, VP9, AV1 or Motion JPEG)",
        )
    return capture


def _info(path: str | os.PathLike, capture: cv2.VideoCapture) -> ClipInfo:
    fps = capture.get(cv2.CAP_PROP_FPS)
    if not (1.0 <= fps <= 240.0):
        fps = FALLBACK_FPS
    return ClipInfo(
        path=str(path),
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        fps=float(fps),
        frame_count=max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))),
    )


def probe(path: str | os.PathLike) -> ClipInfo:
    """Reads a clip's header; raises VideoError if it cannot be counted."""
    capture = _open(path)
    try:
        info = _info(path, capture)
    finally:
        capture.release()
    if info.width <= 0 or info.height <= 0:
        raise VideoError(path, "not a readable video (no video stream)")
    check_frame_size(path, info.width, info.height)
    return info


def duration_text(seconds: float) -> str:
    """A length as people say it: "90 seconds", "10 minutes"."""
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


def max_clip_seconds() -> float:
    """The longest clip counted: FLOWREP_MAX_CLIP_S, else DEFAULT_MAX_CLIP_S."""
    return float(os.environ.get("FLOWREP_MAX_CLIP_S", DEFAULT_MAX_CLIP_S))


class FrameClock:
    """A frame's time in seconds from the first frame, from the container's timestamps: a clip with a
    variable frame rate (phones) keeps real time. A frame whose timestamp is missing, not finite or
    not after the last frame's time is put one nominal frame after it instead; a container that gives
    no timestamps at all gets index / fps."""

    def __init__(self, fps: float) -> None:
        self._step = 1.0 / fps
        self._first_stamp_s: float | None = None
        self._last_s: float | None = None
        self.last_step_s = self._step  # the time between the last two frames

    def time_of(self, stamp_s: float) -> float:
        """The time of the next frame, given the container's timestamp for it (seconds)."""
        if self._first_stamp_s is None or self._last_s is None:
            self._first_stamp_s = stamp_s if math.isfinite(stamp_s) else 0.0
            self._last_s = 0.0
            return 0.0
        since_first = stamp_s - self._first_stamp_s
        if not (math.isfinite(since_first) and since_first > self._last_s):
            since_first = self._last_s + self._step
        self.last_step_s, self._last_s = since_first - self._last_s, since_first
        return since_first


def too_long_problem(max_seconds: float, length_s: float | None = None) -> str:
    if length_s is None:
        return f"the clip is longer than the limit of {duration_text(max_seconds)}"
    return f"the clip is {duration_text(round(length_s, 1))} long; the limit is {duration_text(max_seconds)}"


def missing_frames(info: ClipInfo, decoded: int, decoded_s: float) -> float:
    """How far decoding fell short of the header's length, in frames (0 when the header does not say).
    The smaller of the shortfalls in frames and in time: a variable-rate clip whose header guesses its
    frame count from its length and nominal rate is short of frames, not of time."""
    if not info.frame_count:
        return 0.0
    claimed_s = info.frame_count / info.fps
    return max(0.0, min(info.frame_count - decoded, (claimed_s - decoded_s) * info.fps))


def cut_end_warning(info: ClipInfo, decoded: int, decoded_s: float) -> str | None:
    """A plain warning when the header says clearly more than was decoded (the end of the file is
    missing), or None."""
    if missing_frames(info, decoded, decoded_s) <= CUT_END_TOLERANCE_FRAMES:
        return None
    claimed_s = info.frame_count / info.fps
    return (
        f"the end of the clip seems cut off: its header says {claimed_s:.1f} s ({info.frame_count} frames), "
        f"but only {decoded_s:.1f} s ({decoded} frames) could be decoded; the count covers what was decoded"
    )


class ClipReader:
    """Iterates a clip's frames once, decoded ahead on a background thread; frames are timed by the
    container's timestamps (see FrameClock), and frames larger than full HD (a phone's 4K) are shrunk
    to fit it (`counted_size`) before they are queued.

    Raises VideoError from the iteration if the clip has fewer than two frames, changes frame size,
    runs past `max_seconds` (checked on the header's length first, then on the frames decoded, for
    containers that do not say their length), or stops decoding well before the length its container
    claims (a truncated file). A clip that falls short by less is counted, and `warning` says so once
    the iteration has ended.
    """

    def __init__(self, path: str | os.PathLike, max_seconds: float | None = None) -> None:
        self.info = probe(path)
        self.max_seconds = max_seconds
        self.warning: str | None = None
        length_s = self.info.duration_s
        if max_seconds is not None and length_s is not None and length_s > max_seconds:
            raise VideoError(path, too_long_problem(max_seconds, length_s))
        self._frames: queue.Queue[Frame | VideoError | None] = queue.Queue(_PREFETCH_FRAMES)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[Frame]:
        self._thread = threading.Thread(target=self._decode, daemon=True)
        self._thread.start()
        try:
            while (item := self._frames.get()) is not None:
                if isinstance(item, VideoError):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        while self._thread is not None and self._thread.is_alive():
            try:
                self._frames.get_nowait()
            except queue.Empty:
                self._thread.join(0.05)

    def _put(self, item: Frame | VideoError | None) -> bool:
        while not self._stop.is_set():
            try:
                self._frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self) -> None:
        info = self.info
        size = counted_size(info.width, info.height)
        shrink = size != (info.width, info.height)
        # A 4K H.264 clip of 387 frames took 14.7 s with one decoder thread and 10.3 s with two.
        capture = _open(info.path, decoder_threads=2 if shrink else 1)
        clock = FrameClock(info.fps)
        decoded, time_s = 0, 0.0
        try:
            while not self._stop.is_set():
                ok, image = capture.read()
                if not ok or image is None:
                    break
                if image.shape[1] != info.width or image.shape[0] != info.height:
                    raise VideoError(
                        info.path,
                        f"frame size changes from {info.width}×{info.height} to "
                        f"{image.shape[1]}×{image.shape[0]} at frame {decoded}",
                    )
                if shrink:
                    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
                time_s = clock.time_of(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
                if self.max_seconds is not None and time_s > self.max_seconds:
                    raise VideoError(info.path, too_long_problem(self.max_seconds))
                if not self._put(Frame(decoded, time_s, image)):
                    return
                decoded += 1
            if self._stop.is_set():
                return
            self._check_end(decoded, time_s + clock.last_step_s)
            self._put(None)
        except VideoError as error:
            self._put(error)
        except cv2.error as error:  # a decoder failure deep in a damaged file
            self._put(VideoError(info.path, f"decoding failed: {decoder_problem(error)}"))
        finally:
            capture.release()

    def _check_end(self, decoded: int, decoded_s: float) -> None:
        """Raises VideoError for too few frames or a clip missing much of its end; else sets `warning`
        if its end is cut."""
        info = self.info
        if decoded < 2:
            raise VideoError(
                info.path, f"has {decoded} readable frame{'s' * (decoded != 1)}; at least 2 are needed to see motion"
            )
        if missing_frames(info, decoded, decoded_s) > REFUSED_MISSING_SHARE * info.frame_count + 2:
            raise VideoError(
                info.path,
                f"decoding stopped after {decoded} of {info.frame_count} frames (the file looks truncated or damaged)",
            )
        self.warning = cut_end_warning(info, decoded, decoded_s)


def decoder_problem(error: cv2.error) -> str:
    """OpenCV's message without its source file's location."""
    last_line = str(error).strip().splitlines()[-1]
    return last_line.split(" error: ", 1)[-1]


#: A change to a stream of frames on its way to the counter (a farther camera, a webcam's delivery).
FrameTransform = Callable[[Iterable[Frame]], Iterable[Frame]]
