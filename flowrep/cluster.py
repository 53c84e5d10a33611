"""Many clips on a Ray cluster: `flowrep count CLIP... --ray [ADDRESS]`, `flowrep bench DIR --ray [ADDRESS]`.

Owns connecting to Ray (a local Ray started for the run, or a running cluster's address), one Ray
task per clip on a worker process that builds its engine once (the driver's model file and code,
shipped through Ray), handing clips over as paths (shared storage) or as bytes, retrying a clip once
when its worker or node is lost, the progress bar, and results in input order. What the run
reports (each clip's outcome, the nodes used) is flowrep.cluster_report's. The counting itself is
the plain run's: `count_clip` for `count`, `score_clip` for `bench`. Only the `--ray` path imports
this module: the app and the plain CLI never load Ray.
"""

from __future__ import annotations

import hashlib
import logging
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import cv2
import ray
from ray.exceptions import OutOfMemoryError, RayError, RayTaskError
from tqdm import tqdm

from .bench import BenchOptions, ClipScore, Label, TimedSignal, read_labels, score_clip
from .cluster_report import ClusterBenchReport, Counted, RunSummary, WorkerId
from .flow import FlowMethod
from .model import DEFAULT_WEIGHTS, use_one_thread
from .pipeline import Session
from .signals import SignalName, make_signal
from .video import ClipReader, VideoError

#: `--ray` with no address: a Ray started on this machine for the run, using all its cores.
LOCAL = "local"
CountLine = dict | VideoError  # a clip's JSON line, or why it could not be counted


@dataclass(frozen=True)
class Engine:
    """What counts each clip: the same choices as the plain CLI's --signal, --flow, --weights."""

    signal: SignalName = "cnn"
    flow: FlowMethod = "dis"
    weights: Path = DEFAULT_WEIGHTS


# --- on the workers ---------------------------------------------------------------------------

_engines: dict[tuple[str, str, str], tuple[Session, TimedSignal]] = {}  # this worker process's engine
Work = Callable[[Session], tuple[dict | ClipScore | None, str | None]]


def _engine_here(engine: Engine, weights: bytes | None) -> tuple[Session, TimedSignal, bool]:
    """This worker's session, built on its first clip (and again only if the engine changes)."""
    key = (engine.signal, engine.flow, hashlib.sha256(weights or b"").hexdigest())
    if key in _engines:
        return (*_engines[key], False)
    _engines.clear()
    cv2.setNumThreads(1)  # Ray gives a task one CPU; OpenCV would start a thread per core in every worker
    use_one_thread()
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as file:
        file.write(weights or b"")
        file.flush()
        timed = TimedSignal(make_signal(engine.signal, file.name))
    _engines[key] = (Session(timed, flow_method=engine.flow), timed)
    return (*_engines[key], True)


def _measured(engine: Engine, weights: bytes | None, work: Work) -> Counted:
    """Runs one clip's work on this worker's session; says where, and what it cost."""
    session, timed, loaded = _engine_here(engine, weights)
    seconds, calls = timed.seconds, timed.calls
    value, problem = work(session)
    context = ray.get_runtime_context()
    return Counted(
        value,
        problem,
        WorkerId(ray.util.get_node_ip_address(), context.get_node_id(), os.getpid()),
        loaded,
        timed.seconds - seconds,
        timed.calls - calls,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )  # Linux reports KiB


@contextmanager
def _clip_folder_here(folder: str, name: str, data: bytes | None) -> Iterator[Path]:
    """The folder holding the clip on this worker: its own (shared storage), or a temporary one
    with the shipped bytes written under the clip's name, removed afterwards."""
    if data is None:
        yield Path(folder)
        return
    with tempfile.TemporaryDirectory(prefix="flowrep-") as temporary:
        (Path(temporary) / name).parent.mkdir(parents=True, exist_ok=True)
        (Path(temporary) / name).write_bytes(data)
        yield Path(temporary)


@ray.remote(num_cpus=1, max_retries=1, retry_exceptions=False)
def _count_task(
    engine: Engine, weights: bytes | None, clip: str, out_dir: str | None, max_seconds: float | None, data: bytes | None
) -> Counted:
    from .cli_count import count_one  # the plain CLI's own counting of one clip (and its exports)

    def count(session: Session) -> tuple[dict | None, str | None]:
        with _clip_folder_here(str(Path(clip).parent), Path(clip).name, data) as folder:
            try:
                return count_one(str(folder / Path(clip).name), session, out_dir, max_seconds), None
            except VideoError as error:
                return None, error.problem

    return _measured(engine, weights, count)


@ray.remote(num_cpus=1, max_retries=1, retry_exceptions=False)
def _score_task(
    engine: Engine,
    weights: bytes | None,
    folder: str,
    shown_folder: str,
    label: Label,
    options: BenchOptions,
    data: bytes | None,
) -> Counted:
    def score(session: Session) -> tuple[ClipScore, None]:
        with _clip_folder_here(folder, label.file, data) as here:
            scored = score_clip(here, label, session, options)
        if scored.error:  # name the clip as the user did, not as this worker or a temporary copy sees it
            shown = str(Path(shown_folder) / label.file)
            scored = replace(scored, error=scored.error.replace(str(here / label.file), shown))
        return scored, None

    return _measured(engine, weights, score)


# --- on the driver ----------------------------------------------------------------------------


def _start_local_ray() -> None:
    """A Ray on this machine for the run. Its workers get this flowrep through the environment the
    raylet inherits (this package's folder first on PYTHONPATH), not through a runtime_env: with one,
    Ray cannot use the workers it prestarts with the raylet (one per core) and starts others only
    once the clips are submitted."""
    root, before = str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(path for path in (root, before) if path)
    try:
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


@contextmanager
def connected(address: str | None) -> Iterator[tuple[str, float]]:
    """Ray for the run: the caller's if it already initialised Ray, else a local one (address None or
    LOCAL) or the cluster at `address`, with this flowrep's code shipped to its workers. Yields the
    address and the seconds the connection took; shuts a local Ray down (or disconnects) at the end."""
    if ray.is_initialized():
        yield ray.get_runtime_context().gcs_address, 0.0
        return
    started = time.perf_counter()
    if address in (None, LOCAL):
        _start_local_ray()
    else:
        code = {"py_modules": [str(Path(__file__).resolve().parent)]}
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR, runtime_env=code)
    try:
        yield ray.get_runtime_context().gcs_address, time.perf_counter() - started
    finally:
        ray.shutdown()


def _weights(engine: Engine) -> ray.ObjectRef | None:
    """The driver's model, checked here (a bad file is one WeightsError, as in a plain run) and put
    in the object store once, so every worker loads the same weights wherever flowrep is installed."""
    make_signal(engine.signal, engine.weights)
    return ray.put(Path(engine.weights).read_bytes()) if engine.signal == "cnn" else None


def _shipped(path: Path, ship_bytes: bool) -> ray.ObjectRef | None:
    """The clip's bytes in the object store, with `ship_bytes`; raises the plain run's VideoError
    when this machine cannot read it."""
    if not ship_bytes:
        return None
    try:
        return ray.put(path.read_bytes())
    except OSError as error:
        ClipReader(path)  # raises the error a plain run gives for this path
        raise VideoError(path, f"cannot be read ({error.strerror})") from None


Submit = Callable[[], ray.ObjectRef | Counted]


def _submit(task: Any, clip: Path, ship_bytes: bool, *args: object) -> Submit:
    """Submits task(*args, bytes or None) for one clip when called; a clip this machine cannot read
    for shipping is its error at once."""

    def submit() -> ray.ObjectRef | Counted:
        try:
            data = _shipped(clip, ship_bytes)
        except VideoError as error:
            return Counted(None, error.problem)
        return task.remote(*args, data)

    return submit


def _lost(error: RayError) -> str:
    """The clip's error line when no worker could count it, even on the retry."""
    if isinstance(error, RayTaskError):
        return f"failed on its worker: {type(error.cause).__name__}: {error.cause}"
    if isinstance(error, OutOfMemoryError):
        return "its worker ran out of memory twice; not counted"
    return (
        f"its worker or node was lost twice while counting it ({type(error).__name__}: a crash in native "
        "code, a killed worker or a lost node); not counted"
    )


def _result(ref: ray.ObjectRef) -> Counted:
    try:
        return ray.get(ref)
    except RayError as error:
        return Counted(None, _lost(error))


def _run_in_order(submits: list[Submit], on_done: Callable[[int, Counted], None]) -> tuple[list[Counted], float]:
    """Submits the clips (at most two per CPU of the cluster waiting, so that shipped bytes do not
    pile up in the object store), shows a progress bar over clips on stderr (at a terminal), and
    hands each result to `on_done` in input order as soon as those before it are in."""
    started = time.perf_counter()
    results: list[Counted | None] = [None] * len(submits)
    pending: dict[ray.ObjectRef, int] = {}
    in_flight = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    submitted = shown = 0
    with tqdm(total=len(submits), unit="clip", file=sys.stderr, disable=None) as bar:
        while shown < len(submits):
            while submitted < len(submits) and len(pending) < in_flight:
                task = submits[submitted]()
                if isinstance(task, Counted):
                    results[submitted] = task
                    bar.update()
                else:
                    pending[task] = submitted
                submitted += 1
            if pending:
                [ready], _ = ray.wait(list(pending), num_returns=1)
                results[pending.pop(ready)] = _result(ready)
                bar.update()
            while shown < len(submits) and (result := results[shown]) is not None:
                with tqdm.external_write_mode(file=sys.stdout):  # keep the bar off the printed lines
                    on_done(shown, result)
                shown += 1
    return [r for r in results if r is not None], time.perf_counter() - started


def _as_shown(clip: str, outcome: Counted, out_dir: str | None) -> CountLine:
    """The clip's line as the plain run prints it: the clip and export paths as the user gave them."""
    if not isinstance(outcome.value, dict):
        return VideoError(clip, outcome.problem or "not counted")
    line = {**outcome.value, "file": clip}
    for key in ("annotated_video", "reps_csv"):
        if key in line and out_dir is not None:
            line[key] = str(Path(out_dir) / Path(str(line[key])).name)
    return line


def count_clips(
    clips: list[str],
    engine: Engine = Engine(),
    address: str | None = None,
    ship_bytes: bool = False,
    out_dir: str | None = None,
    on_clip: Callable[[str, CountLine], object] | None = None,
    max_seconds: float | None = None,
) -> tuple[list[CountLine], RunSummary]:
    """`flowrep count --ray`: each clip's JSON line (or its VideoError) in input order, as the plain
    run gives them, and where they were counted. on_clip(clip, line) sees each in order as it is ready;
    clips longer than max_seconds are refused (None: any length)."""
    worker_out = None if out_dir is None else str(Path(out_dir).resolve())
    lines: list[CountLine] = []

    def done(index: int, outcome: Counted) -> None:
        lines.append(_as_shown(clips[index], outcome, out_dir))
        if on_clip is not None:
            on_clip(clips[index], lines[-1])

    with connected(address) as (where, startup_s):
        weights = _weights(engine)
        submits = [
            _submit(
                _count_task,
                Path(clip).resolve(),
                ship_bytes,
                engine,
                weights,
                str(Path(clip).resolve()),
                worker_out,
                max_seconds,
            )
            for clip in clips
        ]
        outcomes, wall_s = _run_in_order(submits, done)
    return lines, RunSummary(where, startup_s, wall_s, outcomes)


def _score(folder: Path, label: Label, outcome: Counted) -> ClipScore:
    if isinstance(outcome.value, ClipScore):
        return outcome.value
    return ClipScore(label.file, label.count, 0, 0.0, 0, f"{folder / label.file}: {outcome.problem}")


def bench_folder(
    folder: Path,
    options: BenchOptions = BenchOptions(),
    engine: Engine = Engine(),
    address: str | None = None,
    ship_bytes: bool = False,
    on_clip: Callable[[ClipScore], None] | None = None,
) -> ClusterBenchReport:
    """`flowrep bench --ray`: the plain bench's report (the same ClipScores, from `score_clip`) with
    the cluster's aggregate frames/s and where each clip was counted. Raises LabelsError as run_bench does."""
    labels = read_labels(folder)
    engine = replace(engine, flow=cast(FlowMethod, options.flow_method))  # as run_bench does
    report = ClusterBenchReport(options=options)

    def done(index: int, outcome: Counted) -> None:
        report.clips.append(_score(folder, labels[index], outcome))
        if on_clip is not None:
            on_clip(report.clips[-1])

    with connected(address) as (where, startup_s):
        weights = _weights(engine)
        submits = [
            _submit(
                _score_task,
                folder.resolve() / label.file,
                ship_bytes,
                engine,
                weights,
                str(folder.resolve()),
                str(folder),
                label,
                options,
            )
            for label in labels
        ]
        outcomes, report.wall_seconds = _run_in_order(submits, done)
    calls = sum(o.signal_calls for o in outcomes)
    report.signal_ms_per_frame = 1000 * sum(o.signal_seconds for o in outcomes) / max(1, calls)
    report.run = RunSummary(where, startup_s, report.wall_seconds, outcomes)
    return report
