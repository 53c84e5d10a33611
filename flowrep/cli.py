"""The `flowrep` command line: its subcommands and their options, checking the options' values,
dispatch, and the exit status (0 fine, 2 when any input could not be used, 130 on Ctrl-C).

The commands are cli_count's (`count`, `bench`), cli_workout's (`workout`, `plans`) and `train`
(flowrep.train's, here). Only the counting commands import the engine (torch, OpenCV), lazily:
`flowrep plans` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import DEFAULT_WEIGHTS
from .cli_count import EXIT_BAD_INPUT, bench_command, count_command
from .cli_workout import plans_command, workout_command


def _train(args: argparse.Namespace) -> int:
    from .train import TrainConfig, train

    config = TrainConfig.quick() if args.quick else TrainConfig()
    if args.seed is not None:
        config = TrainConfig(**{**config.__dict__, "seed": args.seed})
    train(config, Path(args.out))
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
    count.set_defaults(run=count_command)

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
        "--still",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="count each clip with S seconds of the still scene before and after it (its first "
        "and last pictures held, with a camera's noise), as a set filmed from before the person "
        "starts to after they stop; default 0, the clips as cut",
    )
    bench.add_argument(
        "--pause",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="count each clip with its picture held S seconds after every rep but the last (at "
        "the labelled rep ends, or at equal parts of the labelled set where labels.csv has none), with a "
        "camera's noise, as a person who pauses between reps; default 0, the clips as cut",
    )
    bench.add_argument(
        "--webcam",
        action="store_true",
        help="count each clip as a browser webcam delivers it (about 10 frames/s, long side at "
        "most 640 px, JPEG quality 70, jittered timestamps) with the live counter; default: "
        "as a file, with the whole clip's evidence",
    )
    bench.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="with --webcam: which draw of the timestamps' jitter (default 0); a two-rep set's live "
        "count can move with it, so compare counters over several",
    )
    engine_options(bench)
    ray_options(bench)
    bench.set_defaults(run=bench_command)

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
    workout.set_defaults(run=workout_command)

    plans = commands.add_parser("plans", help="list the shipped plans and those saved from the page (FLOWREP_DB)")
    plans.set_defaults(run=plans_command, counts=False)
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
