"""What a clip must be to be counted: the container and codec allow-list (by content, never by name)
and the frame-shape limits, for every entry (the CLI here; the page and /count share the same checks)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from flowrep import cli
from flowrep.flow import MIN_FLOW_SIDE, FlowEstimator, flow_shape
from flowrep.pipeline import FrameError, Session
from flowrep.redact import without_paths
from flowrep.video import MAX_ASPECT, MIN_FRAME_SIDE, ClipReader, VideoError, decoder_problem, probe


def _noise_clip(path: Path, width: int, height: int, frames: int = 6, fps: float = 10.0) -> Path:
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    base = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    for k in range(frames):
        writer.write(np.roll(base, 2 * k, axis=1))
    writer.release()
    return path


def _ffmpeg_clip(path: Path, *codec: str) -> Path:
    return _ffmpeg(path, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "1", *codec)


def _count(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[str], str]:
    status = cli.main(["count", "--signal", "mean-flow", *map(str, paths)])
    out, err = capsys.readouterr()
    return status, err.strip().splitlines(), out


@pytest.mark.parametrize(
    "size,problem",
    [
        ((1280, 240), "more than 4 times as wide as high"),
        ((240, 1280), "more than 4 times as wide as high"),
        ((1000, 8), "smaller than 64 pixels"),
    ],
)
def test_frames_of_an_unsafe_shape_are_refused_in_one_line_and_the_next_clip_is_counted(
    tmp_path: Path, clips: dict[str, Path], capsys: pytest.CaptureFixture[str], size: tuple[int, int], problem: str
) -> None:
    # Frames wider than about 4:1 shrink to a flow grid so thin that OpenCV's DIS crashed the process.
    odd = _noise_clip(tmp_path / "odd.mp4", *size)
    status, errors, out = _count(capsys, odd, clips["good"])
    assert status == 2 and len(errors) == 1 and problem in errors[0] and str(odd) in errors[0]
    assert out.strip().endswith("\t4")


def test_the_widest_and_smallest_frames_accepted_are_counted_without_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wide = _noise_clip(tmp_path / "wide.mp4", int(MAX_ASPECT * 128), 128)
    small = _noise_clip(tmp_path / "small.mp4", MIN_FRAME_SIDE, MIN_FRAME_SIDE)
    status, errors, out = _count(capsys, wide, small)
    assert status == 0 and errors == [] and len(out.splitlines()) == 2


def test_a_live_frame_of_an_unsafe_shape_is_refused_not_a_crash() -> None:
    session = Session("mean-flow")
    with pytest.raises(FrameError, match="more than 4 times"):
        session.process(np.zeros((240, 1280, 3), np.uint8), 0.0)
    with pytest.raises(FrameError, match="smaller than 64"):
        session.process(np.zeros((1, 1000, 3), np.uint8), 0.0)


def _test_pattern(path: Path, width: int, height: int, frames: int) -> Path:
    """FFmpeg's test pattern as an H.264 clip, as a phone would film it at that size."""
    source = f"testsrc=size={width}x{height}:rate=10"
    codec = ["-c:v", "libx264", "-preset", "ultrafast"]
    return _ffmpeg(path, "-f", "lavfi", "-i", source, "-frames:v", str(frames), *codec)


def _ffmpeg(path: Path, *args: str) -> Path:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args, str(path)], check=True, timeout=60
    )
    return path


def test_a_phone_s_4k_clip_is_read_upright_at_full_hd(tmp_path: Path) -> None:
    """Phones film 4K, and film portrait as a landscape picture with a rotation in its header: the
    frames come out upright, shrunk to full HD (what the engine counts at), the picture kept."""
    landscape = _test_pattern(tmp_path / "landscape.mp4", 3840, 2160, 3)
    portrait = _ffmpeg(tmp_path / "portrait.mp4", "-display_rotation", "90", "-i", str(landscape), "-c", "copy")
    full = cv2.VideoCapture(str(landscape)).read()[1]
    for clip, shape in ((landscape, (1080, 1920, 3)), (portrait, (1920, 1080, 3))):
        frames = [frame.image for frame in ClipReader(clip, max_seconds=600.0)]
        assert [frame.shape for frame in frames] == [shape] * 3
        assert abs(float(frames[0].mean()) - float(full.mean())) < 1.0  # the same picture, smaller
    with pytest.raises(VideoError, match="4608×2592, larger than the 4096×2160 limit"):
        probe(_test_pattern(tmp_path / "too_large.mp4", 4608, 2592, 2))


@pytest.mark.parametrize("width,height", [(1920, 480), (480, 1920), (1000, 251), (64, 64), (300, 71), (71, 283)])
def test_every_accepted_shape_gets_a_flow_grid_the_flow_can_take(width: int, height: int) -> None:
    grid = flow_shape(width, height)
    assert min(grid) >= MIN_FLOW_SIDE
    estimator = FlowEstimator("dis")
    frame = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    estimator(frame)
    assert estimator(np.roll(frame, 1, axis=1)).shape == (grid[1], grid[0], 2)


def test_a_playlist_is_refused_whatever_its_name(tmp_path: Path, clips: dict[str, Path]) -> None:
    # A playlist's segment can name any file on the server; FFmpeg would decode it.
    text = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{clips['good']}\n#EXT-X-ENDLIST\n"
    for name in ("list.m3u8", "list.mp4", "list.webm"):
        playlist = tmp_path / name
        playlist.write_text(text)
        with pytest.raises(VideoError, match="this file is a playlist"):
            probe(playlist)


@pytest.mark.parametrize(
    "head,what",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "a PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(40), "a JPEG image"),
        (b"hello, this is not a video\n" * 3, "text"),
    ],
)
def test_images_and_text_are_refused_by_their_content(tmp_path: Path, head: bytes, what: str) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(head)
    with pytest.raises(VideoError, match=f"this file is {what}, not a video we accept"):
        probe(fake)


def test_accepted_containers_and_codecs_open_and_others_are_refused(tmp_path: Path) -> None:
    assert probe(_ffmpeg_clip(tmp_path / "vp9.webm", "-c:v", "libvpx-vp9")).frame_count > 0
    assert probe(_ffmpeg_clip(tmp_path / "mjpeg.avi", "-c:v", "mjpeg")).width == 160
    assert probe(_ffmpeg_clip(tmp_path / "h264.mkv", "-c:v", "libx264")).height == 120
    with pytest.raises(VideoError, match=r"video codec \(theo\) is not one we accept"):
        probe(_ffmpeg_clip(tmp_path / "theora.mkv", "-c:v", "libtheora"))


@pytest.mark.parametrize("name", ["missing", "text", "empty", "truncated", "one_frame", "too_large"])
def test_a_refused_clip_s_problem_names_no_server_path(clips: dict[str, Path], name: str) -> None:
    """The page and /count show `problem` with the file's name; the server's folders stay out of it."""
    with pytest.raises(VideoError) as error:
        list(ClipReader(clips[name], max_seconds=600.0))
    assert error.value.problem and str(clips[name].parent) not in error.value.problem


def test_a_decoder_failure_is_told_without_opencv_s_source_path() -> None:
    error = cv2.error(
        "OpenCV(5.0.0) /io/opencv/modules/videoio/src/cap_ffmpeg_impl.hpp:1234: error: "
        "(-2:Unspecified error) could not decode in function 'retrieveFrame'\n"
    )
    assert decoder_problem(error) == "(-2:Unspecified error) could not decode in function 'retrieveFrame'"


def test_without_paths_keeps_file_names_only() -> None:
    text = "[Errno 13] Permission denied: '/srv/flowrep/runs/run-1/clip.mp4' (see /etc/x.conf) at 1920×1080 3/4"
    assert without_paths(text) == "[Errno 13] Permission denied: 'clip.mp4' (see x.conf) at 1920×1080 3/4"
