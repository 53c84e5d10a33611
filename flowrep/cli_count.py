"""The counting commands, `flowrep count` and `flowrep bench`: the engine the options choose, each
clip counted here or on Ray (with its exports), and what is printed: a line per clip, or the bench
table and its figures. `flowrep workout` builds its engine here too (session_for).

Errors are one line naming the file and the problem; the other clips are still counted, and the
command's status is EXIT_BAD_INPUT.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engine (torch, OpenCV) is imported by the commands that count: `plans` starts fast
    import numpy as np

    from .bench import BenchReport, ClipScore
    from .pipeline import Session
    from .signals import ProbabilitySource
    from .video import VideoError

EXIT_BAD_INPUT = 2


def _signal(args: argparse.Namespace) -> ProbabilitySource:
    from .signals import make_signal

    return make_signal(args.signal, args.weights)


def session_for(args: argparse.Namespace) -> Session:
    """The counting session the options choose (--signal, --weights, --flow); `flowrep workout`'s too."""
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


def count_command(args: argparse.Namespace) -> int:
    from .video import VideoError

    if args.ray is not None:
        return _count_on_ray(args)
    session = session_for(args)
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


def bench_command(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .bench import BenchOptions, LabelsError, read_labels, run_bench

    if args.seed and not args.webcam:
        print("flowrep: --seed chooses the webcam's timestamp jitter: use it with --webcam", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(_bench_row([name for name, _ in _BENCH_COLUMNS]))
    try:
        options = BenchOptions(
            "webcam" if args.webcam else "file", args.flow, args.farther, args.seed, args.still, args.pause
        )
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
    if options.still_s > 0.0:
        held = f"{options.still_s:g} s of its first and last pictures held"
        print(f"\n(every clip with {held} before and after it: the still scene around a set)", end="")
    if options.pause_s > 0.0:
        print(f"\n(every clip with its picture held {options.pause_s:g} s after each rep but the last)", end="")
    if options.mode == "webcam":
        print(
            "\n(every clip as a browser webcam delivers it, counted live: 10 frames/s, long side at most "
            f"640 px, JPEG quality 70, jittered timestamps, seed {options.seed})",
            end="",
        )
    print(
        f"\n{len(report.clips)} clips  MAE {summary['mae']:.3f}  OBO {summary['obo']:.2f}  "
        f"{summary['fps']:.0f} frames/s  peak RSS {summary['peak_rss_mb']:.0f} MB  "
        f"{args.signal} {summary['signal_ms_per_frame']:.2f} ms/frame  (flow {args.flow})"
    )
    if summary.get("live_count"):
        shown = summary["live_count"]
        print(
            f"the live count as each clip ended, before its final count: MAE {shown['mae']:.3f}  OBO {shown['obo']:.2f}"
        )
    if summary["count_delay_s"]:
        delay = summary["count_delay_s"]
        print(
            f"count shown {delay['median']:.2f} s after a rep's motion ends (median; p90 "
            f"{delay['p90']:.2f} s; {delay['reps']} reps; each rep's end as the finished set's evidence "
            "places it, negative if shown before)"
        )
        if "under_way" in delay:
            later = delay["under_way"]
            print(
                f"  after each clip's first count: {later['median']:.2f} s (median; p90 {later['p90']:.2f} s; "
                f"{later['reps']} reps; the first count waits until the motion is seen to repeat)"
            )
    if summary.get("timing"):
        timing = summary["timing"]
        print(
            f"reps matched in time on {timing['clips']} clips with labelled rep ends: {timing['missed']} of "
            f"{timing['true']} missed, {timing['extra']} counted where there was none"
        )
        if "end_error_s" in timing:
            off = timing["end_error_s"]
            print(
                f"  the matched reps' ends are {off['median']:.2f} s from the labelled ones (median; "
                f"p90 {off['p90']:.2f} s; {off['reps']} reps)"
            )
    if (run := getattr(report, "run", None)) is not None:  # counted on Ray
        print(f"{run.line()}; frames/s is the cluster's aggregate", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return EXIT_BAD_INPUT if any(c.error for c in report.clips) else 0
