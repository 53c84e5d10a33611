"""Live counts on real people (../shared/data): the exercise clips as the page's camera delivers them,
to a webcam set and to a workout, judged as folder figures, not as any one clip's exact count.
(A client that sends faster than the camera is counted at the camera's rate: test_session.py checks
that throttle on a 30 frames/s stream, so these clips need not be counted a third way for it.)
(Files are test_real_clips.py's; apart so that the two halves of the suite's slowest checks run side
by side.)"""

from __future__ import annotations

from pathlib import Path

from flowrep.bench import BenchOptions, BenchReport, ClipScore, read_labels, run_bench
from flowrep.cli_workout import run_plan_on_clip
from flowrep.pipeline import Session
from flowrep.plans import find_plan


def test_the_exercise_clips_are_counted_live_as_a_webcam_delivers_them(shared_data: Path, cnn_signal) -> None:
    report = run_bench(shared_data / "exercise", cnn_signal, BenchOptions("webcam"))
    # Issue 19's figure (MAE <= 0.05, OBO >= 0.93); the model card's is 0.007 / 1.00 (0.008 / 0.99 over
    # jitter seeds 0-4). A set's final count is its whole evidence's: live, squat_sumukh_1 showed 4 of
    # 2 (slow squats filmed by someone walking round them: the steps repeat, and a live count cannot
    # know the squat's 7 s period until 14 s in); when the set ends it counts 2 (0.080 before).
    assert report.mae <= 0.05 and report.obo >= 0.93, [(c.file, c.true, c.pred) for c in report.clips]
    # What the live count showed as each set ended (its last rep not yet shown, squat_sumukh_1's 5):
    # 0.131 / 0.93 (0.098 with its 4, before session 30). A live count in bursts (0.64 when it took
    # every frame) fails here.
    shown = report.live_count
    assert shown is not None and shown["mae"] <= 0.15 and shown["obo"] >= 0.93, [
        (c.file, c.true, c.live_count) for c in report.clips
    ]
    # Once a set's first count has come (it waits until the motion is seen to repeat), each later rep
    # shows within about 0.5 s of its end (issue 19), its end as the whole set's evidence places it:
    # median -0.20 s (a rep shows as it ends, a little before), p90 0.30 s at seed 0.
    delay = report.count_delay_s
    assert delay is not None and delay["median"] <= 0.5 and delay["under_way"]["p90"] <= 0.5, delay


def test_a_workout_run_on_each_clip_counts_its_reps_as_the_camera_would(shared_data: Path, cnn_signal) -> None:
    # `flowrep workout` on a clip feeds the live counter the page camera's 10 frames a second. Fed
    # all 25–30 of a clip's frames, the live counter found 0.2–0.3 s "periods" inside slow curls and
    # squats and counted in bursts (curl_sumukh_1: 20 reps of a 20-rep target in 4.4 s, 3 curls in all;
    # the folder 0.64): this fails on that.
    folder = shared_data / "exercise"
    session = Session(cnn_signal)
    report = BenchReport()  # scored as the bench scores a folder
    for label in read_labels(folder):
        runner = run_plan_on_clip(str(folder / label.file), find_plan("reps: 1000 reps"), session)
        score = ClipScore(label.file, label.count, runner.summary().reps, 0.0, 0, live_count=session.live_count_at_end)
        report.clips.append(score)
    # 0.007 / 1.00 (0.080 / 0.93 before a finished set was counted on its whole evidence: squat_sumukh_1).
    assert report.mae <= 0.05 and report.obo >= 0.93, [(c.file, c.true, c.pred) for c in report.clips]
    # The live count as the clip ended, before that: 0.187 / 0.93 (a burst fails here). Nearly all of it is
    # squat_sumukh_1, 6 of 2: a moving camera's false short period counts 3 in its first 3 s, and 3 more
    # come over its two 7 s squats (at 6.6, 10.0 and 11.7 s; they end at 6.9 and 13.3). 0.120 until
    # session 30 (4 of 2), when a hold as long as a period began to count as part of a cycle.
    shown = report.live_count
    assert shown is not None and shown["mae"] <= 0.2 and shown["obo"] >= 0.93, [
        (c.file, c.true, c.live_count) for c in report.clips
    ]
