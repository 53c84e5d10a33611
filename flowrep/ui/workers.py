"""Clips counted in worker processes: a native crash (a decoder's segfault, an abort in OpenCV or
torch) fails that one clip with a clear message while the server and every other visitor go on, and
two clips use both cores.

Not concurrent.futures.ProcessPoolExecutor: when one of its workers dies, every job in flight on any
of its workers fails with BrokenProcessPool, so a crash would cost the other visitor their clip too.
Here each worker is a fresh Python process (see _Worker) with its own socket, one clip at a time: a
worker that dies fails only its own clip, and a fresh one takes its place. It loads the model as it
starts, writes the clip's exports (annotated video, reps CSV) itself, and sends back what the page
shows a few times a second (the latest side-by-side view, the count, the probabilities since the
last message), then the result. A visitor who leaves cancels the clip (checked at every frame); a
worker that does not answer the cancel is killed and replaced. A worker runs flowrep.ui.count_worker,
which must not import Gradio.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Self

from flowrep.ui.count_worker import Cancelled, Counted, Job, JobFunction, Progress, count_job
from flowrep.video import VideoError

#: Seconds a cancelled worker has to stop before it is killed and replaced.
CANCEL_WAIT_S = 5.0
_POLL_S = 0.25


class WorkerCrashed(Exception):
    """The process counting a clip died (a crash in native code): str() is the message for people."""


class _Worker:
    """A worker process: `python -c "...serve(FD)..."`, talking over one end of a socket pair.

    A fresh interpreter rather than multiprocessing's spawn or fork server: those import the server's
    main module (app.py, and with it Gradio) into every worker; fork would copy a threaded server."""

    def __init__(self, signal_name: str, weights: Path) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        code = "import sys; from flowrep.ui.count_worker import serve; serve(*sys.argv[1:])"
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno()), signal_name, str(weights)],
                pass_fds=[theirs.fileno()],
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())

    def is_alive(self) -> bool:
        return self.process.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        if self.is_alive():
            self.process.kill()

    def join(self, timeout: float) -> None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.join(2.0)
        if self.is_alive():
            self.kill()
            self.process.wait()
        self.conn.close()


def crash_text(exitcode: int | None) -> str:
    """What a visitor reads when the worker counting their clip died."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f" ({signal.Signals(-exitcode).name})"
        except ValueError:
            how = f" (signal {-exitcode})"
    else:
        how = f" (exit code {exitcode})" if exitcode else ""
    return (
        f"the process counting it crashed{how}, most likely in the video decoder; the file may be "
        "damaged or unusual. Other clips are not affected: try again, or re-encode the clip (H.264 mp4)."
    )


class CountPool:
    """Up to `size` worker processes, each counting one clip at a time; see the module's docstring."""

    def __init__(self, signal_name: str, weights: Path, size: int = 2) -> None:
        self.signal_name = signal_name
        self.weights = weights
        self.size = size
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._started = 0
        self.crashes = 0

    def warm_up(self) -> None:
        """Starts every worker now rather than on the first clips."""
        with self._lock:
            while self._started < self.size:
                self._idle.put(_Worker(self.signal_name, self.weights))
                self._started += 1

    def close(self) -> None:
        with self._lock:
            while True:
                try:
                    self._idle.get_nowait().stop()
                except queue.Empty:
                    break
                self._started -= 1

    def run(self, job: Job, function: JobFunction = count_job) -> Run:
        """A clip being counted: iterate it for the progress, then call result(). Use it as a context
        manager, so that a clip left early is cancelled and its worker given back."""
        return Run(self, self._acquire(), job, function)

    def count(self, job: Job, function: JobFunction = count_job) -> Counted:
        """Counts a clip without progress (for /count); raises VideoError, WorkerCrashed or RuntimeError."""
        with self.run(job, function) as running:
            for _ in running:
                pass
            return running.result()

    def _acquire(self) -> _Worker:
        """An idle worker that is alive (one that died while idle is replaced), or a new one."""
        while True:
            with self._lock:
                try:
                    worker = self._idle.get_nowait()
                except queue.Empty:
                    worker = None
                    if self._started < self.size:
                        self._started += 1
                        try:
                            return _Worker(self.signal_name, self.weights)
                        except BaseException:
                            self._started -= 1
                            raise
            worker = worker or self._idle.get()
            if worker.is_alive():
                return worker
            self._release(worker, healthy=False)

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if healthy:
            self._idle.put(worker)
            return
        worker.stop(kill=True)
        with self._lock:  # its replacement starts now (it loads the model before the next clip comes)
            try:
                self._idle.put(_Worker(self.signal_name, self.weights))
            except OSError:
                self._started -= 1


class Run:
    """One clip on one worker: iterating yields the Progress after each of the worker's messages."""

    def __init__(self, pool: CountPool, worker: _Worker, job: Job, function: JobFunction) -> None:
        self.pool, self.worker, self.job = pool, worker, job
        self.progress = Progress()
        self._outcome: tuple[Any, ...] | None = None
        try:
            worker.conn.send((function, job))
        except OSError:
            self._outcome = ("crashed", worker.exitcode)

    def __enter__(self) -> Self:
        return self

    def __iter__(self) -> Iterator[Progress]:
        while self._outcome is None:
            message = self._receive()
            if message is None:
                continue
            if message[0] == "progress":
                _, index, total, view, count, times, probabilities = message
                seen = self.progress
                seen.index, seen.total, seen.view, seen.count = index, total, view, count
                seen.probabilities.extend(probabilities)  # before times: readers slice by len(times)
                seen.times.extend(times)
                yield seen
            else:
                self._outcome = message

    def _receive(self) -> tuple[Any, ...] | None:
        conn, process = self.worker.conn, self.worker
        try:
            if conn.poll(_POLL_S):
                return conn.recv()
        except (EOFError, OSError):
            pass
        else:
            if process.is_alive():
                return None
        process.join(1.0)
        self.pool.crashes += 1
        return ("crashed", process.exitcode)

    def result(self) -> Counted:
        """The clip's result; raises VideoError (the clip), WorkerCrashed, Cancelled or RuntimeError."""
        for _ in self:  # the rest of the progress, if not read
            pass
        outcome = self._outcome
        assert outcome is not None
        kind, *rest = outcome
        if kind == "done":
            result, video, reps_csv = rest
            return Counted(result, video and Path(video), reps_csv and Path(reps_csv))
        if kind == "video_error":
            raise VideoError(self.job.path, rest[0])
        if kind == "crashed":
            raise WorkerCrashed(crash_text(rest[0]))
        if kind == "cancelled":
            raise Cancelled()
        raise RuntimeError(rest[0])

    def __exit__(self, *exc: object) -> None:
        if self._outcome is None:  # left early: cancel, and wait (a little) for the worker to stop
            self._cancel()
        crashed = self._outcome is not None and self._outcome[0] == "crashed"
        self.pool._release(self.worker, healthy=not crashed and self.worker.is_alive())

    def _cancel(self) -> None:
        try:
            self.worker.conn.send("cancel")
        except OSError:
            self._outcome = ("crashed", self.worker.exitcode)
            return
        deadline = time.monotonic() + CANCEL_WAIT_S
        while self._outcome is None and time.monotonic() < deadline:
            message = self._receive()
            if message is not None and message[0] != "progress":
                self._outcome = message
        if self._outcome is None:  # it did not stop: kill it (a fresh one takes its place)
            self._outcome = ("crashed", None)
            self.worker.kill()


def pool_size() -> int:
    """FLOWREP_WORKERS, else 2 (or 1 on a one-core machine)."""
    return max(1, int(os.environ.get("FLOWREP_WORKERS", str(min(2, os.cpu_count() or 1)))))
