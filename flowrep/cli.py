"""The `flowrep` command: count clips, benchmark a labelled folder, train the model, run a workout plan
on a clip (`flowrep workout`, the same runner as the page's Workout tab) and list the plans.

Owns argument parsing, printing, and exit codes (0 fine, 2 when any input could not be used).
Errors are one line naming the file and the problem; the other clips are still counted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import DEFAULT_WEIGHTS
from .plans import SHIPPED_PLANS, Plan, PlanError, find_plan
from .summary import WorkoutSummary

if TYPE_CHECKING:  # the engine (torch, OpenCV) is imported by the commands that count: `plans` starts fast
    import numpy as np

    from .bench import BenchReport, ClipScore
    from .pipeline import Session
    from .signals import ProbabilitySource
    from .video import VideoError
    from .workout import WorkoutRunner

EXIT_BAD_INPUT = 2


def _signal(args: argparse.Namespace) -> ProbabilitySource:
    from .signals import make_signal

    return make_signal(args.signal, args.weights)


def _session(args: argparse.Namespace) -> Session:
    from .pipeline import Session

    return Session(_signal(args), flow_method=args.flow)


def _engine(args: argparse.Namespace):  # -> cluster.Engine; cluster imports Ray, so only behind --ray
    from .cluster import Engine

    return Engine(args.signal, args.flow, Path(args.weights))


def _on_terminal() -> bool:
    """Progress bars only where someone watches: stderr is a terminal (not a pipe, a log or a test)."""
    return sys.stderr.isatty()


def count_one(clip: str, session: Session, out_dir: str | None, max_seconds: float | None = None) -> dict[str, object]:
    """Counts one clip (and writes its exports to out_dir, if given), with a progress bar over its
    frames on a terminal; returns its JSON line. A clip longer than max_seconds is refused (None: any
    length)."""
    from tqdm import tqdm

    from .pipeline import FrameResult, count_clip

    exports = None
    if out_dir is not None:
        from .viz import ClipExports

        exports = ClipExports(clip, out_dir)
    with tqdm(desc=Path(clip).name, unit="frame", leave=False, disable=not _on_terminal()) as bar:

        def on_frame(index: int, total: int, result: FrameResult, frame: np.ndarray) -> None:
            bar.total = total or None
            bar.update()
            if exports is not None:
                exports.on_frame(index, total, result, frame)

        try:
            result = count_clip(clip, session, on_frame, max_seconds=max_seconds)
        except BaseException:
            if exports is not None:
                exports.abort()
            raise
    if exports is None:
        return result.as_json()
    video, reps_csv = exports.finish(result)
    return {**result.as_json(), "annotated_video": str(video), "reps_csv": str(reps_csv)}


def _print_count(clip: str, line: dict[str, object] | VideoError, as_json: bool) -> bool:
    """Prints one clip's line, or its error (on stderr, and as a JSON line with --json); False on an
    error. A clip's warnings go to stderr (and stay in its JSON line)."""
    from .video import VideoError

    if isinstance(line, VideoError):
        print(f"flowrep: {line}", file=sys.stderr)
        if as_json:
            print(json.dumps({"file": clip, "error": line.problem}), flush=True)
        return False
    warnings = line.get("warnings")
    for warning in warnings if isinstance(warnings, list) else []:
        print(f"flowrep: {clip}: warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps(line), flush=True)
    else:
        print(f"{clip}\t{line['count']}", flush=True)
    return True


def _max_seconds(args: argparse.Namespace) -> float | None:
    """--max-seconds, else FLOWREP_MAX_CLIP_S or 600 s, as the page; 0 lifts the limit (None)."""
    from .video import max_clip_seconds

    limit = max_clip_seconds() if args.max_seconds is None else args.max_seconds
    return limit or None


def _count(args: argparse.Namespace) -> int:
    from .video import VideoError

    if args.ray is not None:
        return _count_on_ray(args)
    session = _session(args)
    status = 0
    for clip in args.clips:
        try:
            line: dict[str, object] | VideoError = count_one(clip, session, args.out_dir, _max_seconds(args))
        except VideoError as error:
            line = error
        if not _print_count(clip, line, args.json):
            status = EXIT_BAD_INPUT
    return status


def _count_on_ray(args: argparse.Namespace) -> int:
    from .cluster import count_clips
    from .video import VideoError

    lines, run = count_clips(
        args.clips,
        _engine(args),
        args.ray,
        args.ray_bytes,
        args.out_dir,
        on_clip=lambda clip, line: _print_count(clip, line, args.json),
        max_seconds=_max_seconds(args),
    )
    print(run.line(), file=sys.stderr)
    return EXIT_BAD_INPUT if any(isinstance(line, VideoError) for line in lines) else 0


_BENCH_COLUMNS = (
    ("clip", 40),
    ("true", 6),
    ("pred", 6),
    ("diff", 6),
    ("missed", 6),
    ("extra", 6),
    ("frames", 7),
    ("fps", 8),
)


def _bench_row(cells: list[object]) -> str:
    """One line of the bench table: the clip name left-aligned, every other cell right-aligned."""
    (_, name_width), *rest = _BENCH_COLUMNS
    aligned = (f" {cell!s:>{width}s}" for cell, (_, width) in zip(cells[1:], rest))
    return f"{cells[0]!s:{name_width}s}" + "".join(aligned)


def _print_clip(score: ClipScore) -> None:
    """One clip's row of the bench table, above the progress bar if one is shown."""
    from tqdm import tqdm

    mark = f"  ERROR {score.error}" if score.error else ""
    missed, extra = ("-", "-") if score.match is None else (score.match.missed, score.match.extra)
    fps = f"{score.frames / max(score.seconds, 1e-9):.0f}"
    cells = [score.file, score.true, score.pred, f"{score.pred - score.true:+d}", missed, extra, score.frames, fps]
    tqdm.write(_bench_row(cells) + mark, file=sys.stdout)
    sys.stdout.flush()


def _bench(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .bench import BenchOptions, LabelsError, read_labels, run_bench

    print(_bench_row([name for name, _ in _BENCH_COLUMNS]))
    try:
        options = BenchOptions("webcam" if args.webcam else "file", args.flow, args.farther)
        if args.ray is not None:
            from .cluster import bench_folder

            report: BenchReport = bench_folder(
                Path(args.folder), options, _engine(args), args.ray, args.ray_bytes, _print_clip
            )
        else:
            folder = Path(args.folder)
            with tqdm(total=len(read_labels(folder)), unit="clip", leave=False, disable=not _on_terminal()) as bar:

                def on_clip(score: ClipScore) -> None:
                    _print_clip(score)
                    bar.update()

                report = run_bench(folder, _signal(args), options, on_clip)
    except LabelsError as error:
        print(f"flowrep: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    summary = report.as_json()
    if report.farther > 1.0:
        print(
            f"\n(every clip filmed as from {report.farther:g} times as far: the picture shrunk into a plain frame)",
            end="",
        )
    if options.mode == "webcam":
        print(
            "\n(every clip as a browser webcam delivers it, counted live: 10 frames/s, long side at most "
            "640 px, JPEG quality 70, jittered timestamps)",
            end="",
        )
    print(
        f"\n{len(report.clips)} clips  MAE {summary['mae']:.3f}  OBO {summary['obo']:.2f}  "
        f"{summary['fps']:.0f} frames/s  peak RSS {summary['peak_rss_mb']:.0f} MB  "
        f"{args.signal} {summary['signal_ms_per_frame']:.2f} ms/frame  (flow {args.flow})"
    )
    if summary["count_delay_s"]:
        delay = summary["count_delay_s"]
        print(
            f"count shown {delay['median']:.2f} s after a rep's motion ends (median; p90 "
            f"{delay['p90']:.2f} s; {delay['reps']} reps)"
        )
    if summary.get("timing"):
        timing = summary["timing"]
        print(
            f"reps matched in time on {timing['clips']} clips with labelled rep ends: {timing['missed']} of "
            f"{timing['true']} missed, {timing['extra']} counted where there was none"
        )
    if (run := getattr(report, "run", None)) is not None:  # counted on Ray
        print(f"{run.line()}; frames/s is the cluster's aggregate", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return EXIT_BAD_INPUT if any(c.error for c in report.clips) else 0


def _train(args: argparse.Namespace) -> int:
    from .train import TrainConfig, train

    config = TrainConfig.quick() if args.quick else TrainConfig()
    if args.seed is not None:
        config = TrainConfig(**{**config.__dict__, "seed": args.seed})
    train(config, Path(args.out))
    return 0


def _saved_plans() -> list[Plan]:
    """Plans saved from the page (FLOWREP_DB); none, with a warning, when the history cannot be read."""
    from .history import History, HistoryError

    try:
        return History().plans()
    except HistoryError as error:
        print(f"flowrep: {error}", file=sys.stderr)
        return []


def run_plan_on_clip(clip: str, plan: Plan, session: Session, get_ready_s: float = 0.0) -> WorkoutRunner:
    """Runs a plan on a clip with the clip's own timestamps as the clock, the way the page runs it
    on a camera (a WorkoutSession). Stops the workout if the clip ends first."""
    from .pipeline import FrameError
    from .video import ClipReader, VideoError
    from .workout import WorkoutSession

    workout = WorkoutSession(session)
    session.reset()
    last_t = 0.0
    for frame in ClipReader(clip):
        if workout.runner is None:
            workout.start(plan, frame.time_s, get_ready_s)
        try:
            workout.process(frame.image, frame.time_s)
        except FrameError as error:
            raise VideoError(clip, f"{error} at frame {frame.index}") from error
        last_t = frame.time_s
        if workout.finished:
            break
    if workout.runner is None:  # a clip without a frame
        workout.start(plan, last_t, get_ready_s)
    workout.end_of_stream(last_t)
    assert workout.runner is not None
    return workout.runner


def _print_summary(summary: WorkoutSummary) -> None:
    print(summary.table_text())
    print(f"\n{summary.plan_name} ({summary.status}): {summary.totals_text()}", flush=True)


def _workout(args: argparse.Namespace) -> int:
    from .video import VideoError

    try:
        plan = find_plan(args.plan, _saved_plans())
    except PlanError as error:
        print(f"flowrep: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        runner = run_plan_on_clip(args.clip, plan, _session(args), args.get_ready)
    except VideoError as error:
        print(f"flowrep: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    summary = runner.summary()
    _print_summary(summary)
    if args.csv:
        summary.write_csv(args.csv)
    return 0


def _plans(args: argparse.Namespace) -> int:
    saved = _saved_plans()
    for label, plans in (("shipped", list(SHIPPED_PLANS)), ("saved", saved)):
        for plan in plans:
            print(f"{plan.name} ({label})")
            print("".join(f"    {line}\n" for line in plan.to_text().splitlines()), end="", flush=True)
    return 0


def _number(text: str, minimum: float, below: str) -> float:
    """An option's number, or argparse's error: not a number, or under `minimum` (said as `below`)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= minimum:
        raise argparse.ArgumentTypeError(f"{text} is {below}")
    return value


def _seconds(text: str) -> float:
    return _number(text, 0.0, "negative")


def _at_least_one(text: str) -> float:
    return _number(text, 1.0, "under 1 (the camera can only move farther away)")


def _ray_address(text: str) -> str:
    if Path(text).exists():  # `--ray clip.mp4` would take the clip for the address
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a Ray address: put the clips before --ray")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowrep", description="Count exercise repetitions in video.")
    commands = parser.add_subparsers(dest="command", required=True)

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--signal",
            choices=("cnn", "mean-flow"),
            default="cnn",
            help="what drives the counter: the CNN (default) or the hand-made mean-flow baseline",
        )
        p.add_argument("--flow", choices=("dis", "farneback"), default="dis", help="optical flow method")
        p.add_argument("--weights", default=str(DEFAULT_WEIGHTS), help="model weights (.safetensors)")

    def ray_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--ray",
            nargs="?",
            const="local",
            default=None,
            type=_ray_address,
            metavar="ADDRESS",
            help="count each clip as a task on the Ray cluster at ADDRESS (HOST:PORT, ray://HOST:PORT "
            "or auto), or on a local Ray started for the run when no address is given; put it after "
            "the clips (needs the ray extra: pip install -e '.[ray]')",
        )
        p.add_argument(
            "--ray-bytes",
            action="store_true",
            help="with --ray, send each clip's bytes to its worker instead of its path (for workers "
            "that do not share this machine's storage)",
        )

    count = commands.add_parser("count", help="print the number of reps in each clip")
    count.add_argument("clips", nargs="+", metavar="CLIP")
    count.add_argument("--json", action="store_true", help="one JSON object per clip, with the reps' times")
    count.add_argument(
        "--out-dir",
        metavar="DIR",
        default=None,
        help="also write <stem>.annotated.mp4 (original | flow, with the count) and "
        "<stem>.reps.csv for each clip into DIR",
    )
    count.add_argument(
        "--max-seconds",
        type=_seconds,
        default=None,
        metavar="S",
        help="refuse clips longer than S seconds, by their header or, when it does not say, "
        "by the frames decoded; 0 for no limit (default: FLOWREP_MAX_CLIP_S, else 600, as the "
        "page)",
    )
    engine_options(count)
    ray_options(count)
    count.set_defaults(run=_count)

    bench = commands.add_parser("bench", help="count every clip of DIR/labels.csv and score the counts")
    bench.add_argument("folder", metavar="DIR")
    bench.add_argument("--json", metavar="OUT", help="also write the figures to this JSON file")
    bench.add_argument(
        "--farther",
        type=_at_least_one,
        default=1.0,
        metavar="F",
        help="count each clip as if filmed from F times as far (the picture shrunk F times "
        "into a plain grey frame); default 1, the clips as they are",
    )
    bench.add_argument(
        "--webcam",
        action="store_true",
        help="count each clip as a browser webcam delivers it (about 10 frames/s, long side at "
        "most 640 px, JPEG quality 70, jittered timestamps) with the live counter; default: "
        "as a file, with the whole clip's evidence",
    )
    engine_options(bench)
    ray_options(bench)
    bench.set_defaults(run=_bench)

    train = commands.add_parser("train", help="train the CNN on synthetic clips")
    train.add_argument("--quick", action="store_true", help="a small run (about 2 minutes) to try the command")
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--out", default=str(DEFAULT_WEIGHTS), help="where to write the weights")
    train.set_defaults(run=_train)
    workout = commands.add_parser("workout", help="run a workout plan on a clip and print its summary")
    workout.add_argument("clip", metavar="CLIP")
    workout.add_argument(
        "--plan",
        required=True,
        help="a plan's name (see `flowrep plans`), or one written out: 'squats: 10 reps; plank: 30 s; rest: 20 s'",
    )
    workout.add_argument("--csv", metavar="OUT", help="also write the summary to this CSV file")
    workout.add_argument(
        "--get-ready",
        type=float,
        default=0.0,
        metavar="S",
        help="seconds of get-ready countdown before the first exercise (default 0)",
    )
    engine_options(workout)
    workout.set_defaults(run=_workout)

    plans = commands.add_parser("plans", help="list the shipped plans and those saved from the page (FLOWREP_DB)")
    plans.set_defaults(run=_plans, counts=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not getattr(args, "counts", True):  # `flowrep plans`: no engine, no torch
        return int(args.run(args))
    from .model import WeightsError, use_one_thread

    if args.command != "train":
        use_one_thread()
    try:
        return int(args.run(args))
    except WeightsError as error:  # the message names the file; here, on the user's own machine, the path helps
        print(f"flowrep: {error} [{error.path}]", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
