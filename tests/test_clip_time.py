"""A clip's time and length as its container gives them: frames timed by the container's timestamps
(a phone's variable frame rate keeps real time), the length limit held while decoding when the header
does not say, and a clip whose end is cut counted with a warning rather than in silence."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from flowrep import cli
from flowrep.pipeline import Session, count_clip
from flowrep.video import ClipReader, FrameClock, VideoError

SIZE = (160, 120)
STILL_S, CYCLE_S, REPS = 1.0, 1.5, 4
LENGTH_S = 2 * STILL_S + REPS * CYCLE_S  # 8 s


def _scene() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    background = cv2.resize(rng.integers(0, 256, (12, 16, 3)).astype(np.uint8), SIZE, interpolation=cv2.INTER_NEAREST)
    square = cv2.resize(rng.integers(0, 256, (4, 4, 3)).astype(np.uint8), (40, 40), interpolation=cv2.INTER_NEAREST)
    return background, square


def square_at(t: float, scene: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The frame at real time t: a textured square still for 1 s, down and back up 4 times in 1.5 s
    cycles, then still."""
    background, square = scene
    phase = (t - STILL_S) / CYCLE_S
    offset = 0.5 - 0.5 * math.cos(2 * math.pi * phase) if 0.0 <= phase <= REPS else 0.0
    frame = background.copy()
    top = 10 + round(offset * (SIZE[1] - 60))
    frame[top : top + 40, SIZE[0] // 2 - 20 : SIZE[0] // 2 + 20] = square
    return frame


Segments = list[tuple[float, float]]  # (frames a second, seconds), one after the other


def frame_times(segments: Segments) -> list[float]:
    times: list[float] = []
    start = 0.0
    for rate, seconds in segments:
        times += [start + n / rate for n in range(round(rate * seconds))]
        start += seconds
    return times


def _stamp_expression(segments: Segments) -> str:
    """setpts's expression for these segments' times, in seconds, from the frame number N."""
    expression, first_frame, start = "", 0, 0.0
    for rate, seconds in segments[:-1]:
        frames = round(rate * seconds)
        expression += f"if(lt(N,{first_frame + frames}),{start}+(N-{first_frame})/{rate},"
        first_frame, start = first_frame + frames, start + seconds
    rate = segments[-1][0]
    return expression + f"{start}+(N-{first_frame})/{rate}" + ")" * (len(segments) - 1)


def _encode(path: Path, segments: Segments, *output: str) -> Path:
    """Writes the scene at these segments' frame times, each frame stamped with its time (H.264)."""
    scene = _scene()
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{SIZE[0]}x{SIZE[1]}",
        "-r",
        "30",
        "-i",
        "-",
        "-vf",
        f"setpts='round(({_stamp_expression(segments)})/TB)'",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        *output,
        str(path),
    ]
    frames = b"".join(square_at(t, scene).tobytes() for t in frame_times(segments))
    subprocess.run(command, input=frames, check=True, timeout=120)
    return path


#: 10 frames a second for the first half, 30 for the second (a phone in low light, then in daylight).
VARIABLE_RATE: Segments = [(10.0, LENGTH_S / 2), (30.0, LENGTH_S / 2)]


@pytest.fixture(scope="module")
def variable_rate_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _encode(tmp_path_factory.mktemp("vfr") / "vfr.mp4", VARIABLE_RATE, "-movflags", "+faststart")


def test_frames_are_timed_by_the_container_not_by_the_nominal_rate(variable_rate_clip: Path) -> None:
    reader = ClipReader(variable_rate_clip)
    times = [frame.time_s for frame in reader]
    assert times == pytest.approx(frame_times(VARIABLE_RATE), abs=0.002)
    assert reader.info.fps == pytest.approx(20.0, abs=0.5), "the nominal rate (frames / length) is wrong for half"
    assert reader.warning is None


def test_a_variable_rate_clip_s_reps_follow_real_time(variable_rate_clip: Path, tmp_path: Path) -> None:
    constant = _encode(tmp_path / "cfr.mp4", [(30.0, LENGTH_S)])
    session = Session("mean-flow")
    expected = count_clip(constant, session)
    counted = count_clip(variable_rate_clip, session)
    assert counted.count == expected.count == REPS
    for rep, reference in zip(counted.reps, expected.reps):
        assert rep.end_s == pytest.approx(reference.end_s, abs=0.2)
        assert rep.start_s == pytest.approx(reference.start_s, abs=0.2)
    assert counted.reps[-1].end_s > LENGTH_S - STILL_S - 0.5, "index / nominal rate would end the reps 2 s early"


def test_a_variable_rate_mkv_is_not_taken_for_a_truncated_file(tmp_path: Path) -> None:
    # Matroska lists no frame count: OpenCV guesses it from the length and the fastest rate (240 for
    # 160 frames); the frames' times still cover the whole length. This clip was refused before.
    clip = _encode(tmp_path / "vfr.mkv", VARIABLE_RATE)
    reader = ClipReader(clip)
    assert reader.info.frame_count > 1.2 * len(frame_times(VARIABLE_RATE))
    assert len(list(reader)) == len(frame_times(VARIABLE_RATE)) and reader.warning is None


def test_the_clock_falls_back_to_the_nominal_rate_when_timestamps_are_missing_or_go_back() -> None:
    missing = FrameClock(25.0)
    assert [missing.time_of(0.0) for _ in range(4)] == pytest.approx([0.0, 0.04, 0.08, 0.12])
    clock = FrameClock(10.0)
    stamps = [5.0, 5.2, 5.3, 5.25, 5.3, math.nan, 6.0]  # timed from the first; one goes back, one repeats
    assert [clock.time_of(s) for s in stamps] == pytest.approx([0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 1.0])
    assert FrameClock(10.0).time_of(math.nan) == 0.0


# ---------------------------------------------------------------- a cut end


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip whose header comes first (as phones and web uploads write them), its last 4 % missing.
    Motion JPEG, whose frames take about the same room each: 4 % of the bytes are about 4 % of the frames."""
    folder = tmp_path_factory.mktemp("cut")
    whole = _encode(
        folder / "whole.mp4", [(25.0, LENGTH_S)], "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-movflags", "+faststart"
    )
    data = whole.read_bytes()
    cut = folder / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.96)])
    return cut


def test_a_clip_whose_end_is_cut_is_counted_with_a_plain_warning(cut_clip: Path) -> None:
    result = count_clip(cut_clip, Session("mean-flow"))
    assert result.frames < 200 and result.count >= REPS - 1
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "cut off" in warning and "8.0 s (200 frames)" in warning and f"({result.frames} frames)" in warning
    assert result.as_json()["warnings"] == [warning]


def test_the_cli_shows_the_warning_and_puts_it_in_the_json(cut_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["count", "--json", "--signal", "mean-flow", str(cut_clip)]) == 0
    out, err = capsys.readouterr()
    line = json.loads(out)
    assert {"file", "count", "reps", "frames", "fps_processed"} < set(line)
    assert len(line["warnings"]) == 1 and "cut off" in line["warnings"][0]
    assert f"{cut_clip}: warning: the end of the clip seems cut off" in err


def test_a_clip_missing_much_of_its_end_is_still_refused(cut_clip: Path, tmp_path: Path) -> None:
    data = cut_clip.read_bytes()
    cut_more = tmp_path / "cut_more.mp4"
    cut_more.write_bytes(data[: int(len(data) * 0.8)])
    with pytest.raises(VideoError, match=r"decoding stopped after \d+ of 200 frames"):
        count_clip(cut_more, Session("mean-flow"))


# ---------------------------------------------------------------- the length limit


@pytest.fixture(scope="module")
def streamed_mkv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An 8 s mkv written to a pipe, as a live recorder streams it: its header gives no length."""
    path = tmp_path_factory.mktemp("streamed") / "streamed.mkv"
    stream = subprocess.run(  # into a pipe, which ffmpeg cannot go back in to write the length
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-t",
            str(LENGTH_S),
            "-i",
            "testsrc=size=160x120:rate=25",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "matroska",
            "pipe:1",
        ],
        stdout=subprocess.PIPE,
        check=True,
        timeout=120,
    )
    path.write_bytes(stream.stdout)
    return path


def test_a_clip_without_a_length_is_held_to_the_limit_while_decoding(streamed_mkv: Path) -> None:
    assert ClipReader(streamed_mkv).info.duration_s is None
    with pytest.raises(VideoError, match="longer than the limit of 5 seconds"):
        count_clip(streamed_mkv, Session("mean-flow"), max_seconds=5.0)
    assert count_clip(streamed_mkv, Session("mean-flow"), max_seconds=10.0).frames == 200
    assert count_clip(streamed_mkv, Session("mean-flow")).frames == 200, "no limit unless asked"


def test_a_clip_whose_header_says_it_is_too_long_is_refused_before_decoding(variable_rate_clip: Path) -> None:
    with pytest.raises(VideoError, match=r"the clip is 8(\.\d)? seconds long; the limit is 5 seconds"):
        ClipReader(variable_rate_clip, max_seconds=5.0)


def test_the_cli_holds_clips_to_the_page_s_limit_unless_told(
    streamed_mkv: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["count", "--signal", "mean-flow", "--max-seconds", "5", str(streamed_mkv)]) == cli.EXIT_BAD_INPUT
    assert "longer than the limit of 5 seconds" in capsys.readouterr().err
    assert cli.main(["count", "--signal", "mean-flow", "--max-seconds", "0", str(streamed_mkv)]) == 0
    monkeypatch.setenv("FLOWREP_MAX_CLIP_S", "4")  # the page's setting is the CLI's default
    assert cli.main(["count", "--signal", "mean-flow", str(streamed_mkv)]) == cli.EXIT_BAD_INPUT
    assert "longer than the limit of 4 seconds" in capsys.readouterr().err
