"""The `flowrep` command as a user runs it: counts, JSON, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_support import run_cli

from flowrep.bench import Label, LabelsError, match_reps, pause_frames, read_labels
from flowrep.conditions import farther_camera, pauses_after, still_edges


def flowrep(*args: str) -> subprocess.CompletedProcess[str]:
    """`flowrep ARGS`, run in this process (the command's own main, its stdout, stderr and exit code)."""
    return run_cli(list(args))


def test_count_prints_each_clip_and_json_gives_the_reps(clips: dict[str, Path]) -> None:
    # The one test that starts the real command in its own process, as a user's shell does.
    plain = subprocess.run(
        [sys.executable, "-m", "flowrep.cli", "count", str(clips["good"])], capture_output=True, text=True, timeout=300
    )
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == f"{clips['good']}\t4"
    result = json.loads(flowrep("count", "--json", str(clips["good"])).stdout)
    assert set(result) == {"file", "count", "reps", "frames", "fps_processed", "warnings", "rep_analysis", "speed_loss"}
    assert result["warnings"] == []
    assert result["count"] == 4 and len(result["reps"]) == 4 and result["frames"] == 152
    assert all(set(r) == {"start_s", "end_s"} and 0 <= r["start_s"] < r["end_s"] for r in result["reps"])
    assert [r["number"] for r in result["rep_analysis"]] == [1, 2, 3, 4]
    assert all(r["relative_speed"] > 0 for r in result["rep_analysis"]) and result["speed_loss"] is not None


BAD = {
    "missing": "no such file",
    "text": "this file is text, not a video we accept",
    "empty": "empty",
    "truncated": "not a readable video",
    "one_frame": "1 readable frame; at least 2",
    "too_large": "4608×2592, larger than the 4096×2160 limit",
}


def test_bad_inputs_get_one_line_each_and_the_good_clip_is_still_counted(clips: dict[str, Path]) -> None:
    names = ["missing", "text", "good", "empty", "truncated", "one_frame", "too_large"]
    run = flowrep("count", *(str(clips[n]) for n in names))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    errors = run.stderr.strip().splitlines()
    assert len(errors) == len(BAD)
    for name, problem in BAD.items():
        line = next(line for line in errors if str(clips[name]) in line)
        assert problem in line, line
    assert run.stdout.strip() == f"{clips['good']}\t4"


def test_a_clip_filmed_larger_than_full_hd_counts_as_the_same_clip_does(clips: dict[str, Path]) -> None:
    run = flowrep("count", str(clips["large_good"]))  # 2048×1536, shrunk to 1440×1080 as it is read
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"{clips['large_good']}\t4"


def test_json_mode_reports_errors_per_clip(clips: dict[str, Path]) -> None:
    run = flowrep("count", "--json", str(clips["text"]), str(clips["good"]))
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 2
    assert rows[0] == {"file": str(clips["text"]), "error": rows[0]["error"]} and "not a video" in rows[0]["error"]
    assert rows[1]["count"] == 4


def test_missing_weights_is_a_clear_error(clips: dict[str, Path], tmp_path: Path) -> None:
    run = flowrep("count", "--weights", str(tmp_path / "none.safetensors"), str(clips["good"]))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "weights not found" in run.stderr


def test_bench_scores_a_labelled_folder(clips: dict[str, Path], tmp_path: Path) -> None:
    folder = clips["good"].parent
    (folder / "labels.csv").write_text("file,count,notes\ngood.mp4,4,a square bobbing\n")
    out = tmp_path / "bench.json"
    run = flowrep("bench", str(folder), "--json", str(out))
    assert run.returncode == 0, run.stderr
    figures = json.loads(out.read_text())
    assert figures["clips"] == [
        {"file": "good.mp4", "true": 4, "pred": 4, "seconds": figures["clips"][0]["seconds"], "frames": 152}
    ]
    assert figures["mae"] == 0 and figures["obo"] == 1 and figures["fps"] > 0 and figures["peak_rss_mb"] > 0
    assert "MAE 0.000" in run.stdout


def test_bench_matches_counted_reps_to_labelled_rep_ends(clips: dict[str, Path], tmp_path: Path) -> None:
    folder = clips["good"].parent
    # The square's 4 reps end on frames 55, 85, 115 and 145. The second row's labels put three of
    # them in the still first second: the totals still agree, the timing does not.
    (folder / "labels.csv").write_text(
        "file,count,cycle_end_frames\ngood.mp4,4,55 85 115 145\ngood.mp4,4,5 10 15 145\n"
    )
    out = tmp_path / "timed.json"
    run = flowrep("bench", str(folder), "--json", str(out))
    assert run.returncode == 0, run.stderr
    figures = json.loads(out.read_text())
    right, shifted = figures["clips"]
    assert right["pred"] == shifted["pred"] == 4
    assert (right["missed"], right["extra"]) == (0, 0)
    assert shifted["missed"] >= 3 and shifted["extra"] >= 3
    timing = figures["timing"]
    assert {key: timing[key] for key in ("clips", "true", "missed", "extra")} == {
        "clips": 2,
        "true": 8,
        "missed": shifted["missed"],
        "extra": shifted["extra"],
    }
    assert timing["end_error_s"]["reps"] == 8 - shifted["missed"] and timing["end_error_s"]["median"] < 0.5
    assert "reps matched in time on 2 clips" in run.stdout and "the matched reps' ends are" in run.stdout
    (folder / "labels.csv").write_text("file,count,cycle_end_frames\ngood.mp4,4,55 85 x 145\n")
    broken = flowrep("bench", str(folder))
    assert broken.returncode == 2 and "line 2: cycle_end_frames must be frame numbers" in broken.stderr


def test_rep_matching_finds_reps_missed_in_one_stretch_and_doubled_in_another() -> None:
    true_ends = [float(s) for s in range(1, 11)]  # a rep a second
    late = match_reps(true_ends, [s + 0.6 for s in true_ends])  # counted late, each within a rep
    assert late[:2] == (0, 0) and late.end_errors_s == pytest.approx([0.6] * 10)
    # none in the first three seconds, three too many at the end: the same total of 10
    late_start = [4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 10.3, 10.6, 10.9]
    assert match_reps(true_ends, late_start)[:2] == (3, 3)
    assert match_reps(true_ends, [])[:2] == (10, 0) and match_reps([], [1.0])[:2] == (0, 1)


def _bench_the_good_clip(
    clips: dict[str, Path], tmp_path: Path, *options: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`flowrep bench` with `options` on a folder holding the 4-rep clip: the run and its JSON figures."""
    folder = clips["good"].parent
    (folder / "labels.csv").write_text("file,count\ngood.mp4,4\n")
    out = tmp_path / "bench.json"
    run = flowrep("bench", str(folder), *options, "--json", str(out))
    assert run.returncode == 0, run.stderr
    return run, json.loads(out.read_text())


def test_bench_can_film_every_clip_from_farther_away(clips: dict[str, Path], tmp_path: Path) -> None:
    run, figures = _bench_the_good_clip(clips, tmp_path, "--farther", "2")
    assert figures["farther"] == 2 and figures["clips"][0]["frames"] == 152
    assert "2 times as far" in run.stdout
    refused = flowrep("bench", str(clips["good"].parent), "--farther", "0.5")
    assert refused.returncode == 2 and "under 1" in refused.stderr and "Traceback" not in refused.stderr


def test_bench_can_film_the_still_scene_before_and_after_every_clip(clips: dict[str, Path], tmp_path: Path) -> None:
    run, figures = _bench_the_good_clip(clips, tmp_path, "--still", "2")
    assert figures["still_s"] == 2 and figures["clips"][0]["frames"] == 152 + 2 * 50  # 2 s at 25 frames/s, twice
    assert figures["clips"][0]["pred"] == 4 and "2 s of its first and last pictures held" in run.stdout
    refused = flowrep("bench", str(clips["good"].parent), "--still", "-1")
    assert refused.returncode == 2 and "negative" in refused.stderr and "Traceback" not in refused.stderr


def test_the_still_scene_is_the_clips_first_and_last_pictures_with_a_cameras_noise() -> None:
    from flowrep.video import Frame

    pictures = [np.full((36, 64, 3), 60 + 40 * i, np.uint8) for i in range(3)]
    frames = list(still_edges(0.2)([Frame(i, 10.0 + i / 25, picture) for i, picture in enumerate(pictures)]))
    assert len(frames) == 5 + 3 + 5
    assert [f.index for f in frames] == list(range(13))
    assert [f.time_s for f in frames] == pytest.approx([i / 25 for i in range(13)])  # from 0, one frame apart
    before, clip, after = frames[:5], frames[5:8], frames[8:]
    assert [f.image is p for f, p in zip(clip, pictures)] == [True] * 3  # the clip itself unchanged
    for held, picture in [(before, pictures[0]), (after, pictures[-1])]:
        differences = [np.abs(f.image.astype(int) - picture).mean() for f in held]
        assert all(0.5 < d < 3.0 for d in differences)  # the same picture, with noise
        assert not np.array_equal(held[0].image, held[1].image)  # never one frame repeated


def test_bench_can_have_the_person_pause_between_reps(clips: dict[str, Path], tmp_path: Path) -> None:
    run, figures = _bench_the_good_clip(clips, tmp_path, "--pause", "1")
    assert figures["pause_s"] == 1 and figures["clips"][0]["frames"] == 152 + 3 * 25  # after 3 of the 4 reps
    assert figures["clips"][0]["pred"] == 4 and "held 1 s after each rep but the last" in run.stdout
    refused = flowrep("bench", str(clips["good"].parent), "--pause", "-1")
    assert refused.returncode == 2 and "negative" in refused.stderr and "Traceback" not in refused.stderr


def test_a_person_pauses_after_each_labelled_rep_but_the_last_or_at_equal_parts_of_the_set(tmp_path: Path) -> None:
    assert pause_frames(tmp_path / "x.mp4", Label("x.mp4", 3, [40, 75, 130])) == [40, 75]
    assert pause_frames(tmp_path / "x.mp4", Label("x.mp4", 4, None, (10, 50))) == [20, 30, 40]
    (tmp_path / "labels.csv").write_text("file,count,start_frame,end_frame\na.mp4,4,10,50\nb.mp4,2,,\n")
    assert [label.set_frames for label in read_labels(tmp_path)] == [(10, 50), None]
    (tmp_path / "labels.csv").write_text("file,count,start_frame,end_frame\na.mp4,4,50,10\n")
    with pytest.raises(LabelsError, match="line 2: end_frame must come after start_frame"):
        read_labels(tmp_path)


def test_a_pause_holds_the_picture_after_the_given_frames_and_delays_the_rest() -> None:
    from flowrep.video import Frame

    pictures = [np.full((36, 64, 3), 60 + 40 * i, np.uint8) for i in range(4)]
    frames = list(pauses_after(0.2, [0, 2])([Frame(i, 10.0 + i / 25, p) for i, p in enumerate(pictures)]))
    assert len(frames) == 4 + 2 * 5
    assert [f.index for f in frames] == list(range(14))
    assert [f.time_s for f in frames] == pytest.approx([10.0 + i / 25 for i in range(14)])  # one frame apart
    assert [f.image is p for f, p in zip([frames[0], frames[6], frames[7], frames[13]], pictures)] == [True] * 4
    for held, picture in [(frames[1:6], pictures[0]), (frames[8:13], pictures[2])]:
        differences = [np.abs(f.image.astype(int) - picture).mean() for f in held]
        assert all(0.5 < d < 3.0 for d in differences)  # the rep's last picture, with a camera's noise


def test_bench_as_a_webcam_says_so_and_which_jitter_it_drew(clips: dict[str, Path], tmp_path: Path) -> None:
    run, figures = _bench_the_good_clip(clips, tmp_path, "--webcam", "--seed", "3")
    assert figures["mode"] == "webcam" and figures["seed"] == 3
    assert figures["clips"][0]["frames"] <= 62  # 10 frames/s of the 6 s, 25 frames/s clip
    assert "seed 3" in run.stdout
    # Beside each clip's final count, what its live count showed as it ended (a visitor's view).
    assert isinstance(figures["clips"][0]["live_count"], int) and set(figures["live_count"]) == {"mae", "obo"}
    assert "the live count as each clip ended" in run.stdout
    refused = flowrep("bench", str(clips["good"].parent), "--seed", "3")
    assert refused.returncode == 2 and "with --webcam" in refused.stderr and "Traceback" not in refused.stderr


def test_the_live_count_delay_is_also_given_after_each_clips_first_count() -> None:
    """A set's first count waits until the motion is seen to repeat, and shows the reps made so far at
    once; the bench says how fast the count follows after that too (issue 19: within about 0.5 s)."""
    from flowrep.bench import BenchReport, ClipScore

    report = BenchReport()
    report.clips = [
        ClipScore("a.mp4", 5, 5, 1.0, 10, delays_s=[3.0, 1.5, 0.1, 0.2, 0.3], first_count_reps=2),
        ClipScore("b.mp4", 2, 2, 1.0, 10, delays_s=[2.0, 0.0], first_count_reps=2),
        ClipScore("c.mp4", 3, 0, 1.0, 10),  # never counted
    ]
    delay = report.count_delay_s
    assert delay is not None and delay["reps"] == 7 and delay["median"] == 0.3
    assert delay["under_way"] == {"median": 0.2, "p90": 0.2, "reps": 3}


def test_the_bench_scores_the_live_count_each_clip_showed_apart_from_its_final_count() -> None:
    from flowrep.bench import BenchReport, ClipScore

    report = BenchReport()
    assert report.live_count is None  # files: no live count
    report.clips = [
        ClipScore("a.mp4", 2, 2, 1.0, 10, live_count=4),  # shown 4, counted 2 on the whole set
        ClipScore("b.mp4", 10, 10, 1.0, 10, live_count=9),
    ]
    assert report.mae == 0.0 and report.live_count == {"mae": 0.55, "obo": 0.5}
    assert report.as_json()["live_count"] == {"mae": 0.55, "obo": 0.5}


def test_a_farther_camera_shrinks_the_picture_into_a_plain_frame_of_the_same_size() -> None:
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:, :80] = 200  # left half bright
    from flowrep.video import Frame

    far = next(iter(farther_camera(2.0)([Frame(0, 0.0, frame)]))).image
    assert far.shape == frame.shape
    assert (far[:20] == 90).all() and (far[:, :38] == 90).all()  # the plain surround
    assert (far[30:60, 42:78] == 200).all() and (far[30:60, 82:118] == 0).all()  # the picture, half size


def test_bench_without_labels_is_a_clear_error(tmp_path: Path) -> None:
    run = flowrep("bench", str(tmp_path))
    assert run.returncode == 2 and "labels.csv" in run.stderr and "Traceback" not in run.stderr


def test_plain_count_and_the_app_never_import_ray(clips: dict[str, Path]) -> None:
    """Ray is an optional extra: only --ray loads it."""
    code = (
        "import sys; sys.argv = ['app']; import app; from flowrep import cli; "
        f"status = cli.main(['count', {str(clips['good'])!r}]); "
        "print(status, sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "0 []"


def test_ray_before_the_clips_is_refused_rather_than_taking_a_clip_for_the_address(clips: dict[str, Path]) -> None:
    run = flowrep("count", "--ray", str(clips["good"]))
    assert run.returncode == 2 and "not a Ray address: put the clips before --ray" in run.stderr
