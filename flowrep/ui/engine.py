"""What every tab of the page shares, one per server: the engine (the probability source, or why there
is none), the optional frame log, the folders that hold each run's downloads, and the upload limits."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowrep.limits import ClipLimits
from flowrep.model import WeightsError
from flowrep.pipeline import Session
from flowrep.signals import ProbabilitySource, make_signal
from flowrep.ui.workers import CountPool

KEEP_FILES_S = 1800  # outputs (annotated videos, CSVs, preview frames) are deleted after this


class Engine:
    """The one probability source all sessions share (the CNN is stateless), or why there is none.

    If the weights are missing or bad, the page says so; it retries now and then, so weights that
    appear later (e.g. a training run finishing) are picked up without a restart.
    """

    RETRY_S = 10.0

    def __init__(self, signal_name: str, weights: Path) -> None:
        self.signal_name = signal_name
        self.weights = weights
        self.signal: ProbabilitySource | None = None
        self.error: str | None = None
        self._tried_at = 0.0
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        self._tried_at = time.monotonic()
        try:
            self.signal = make_signal(self.signal_name, self.weights)  # type: ignore[arg-type]
            self.error = None
        except WeightsError as error:
            self.error = f"The model could not be loaded: {error}. Counting is off until this is fixed."
        except ValueError as error:
            self.error = f"Bad FLOWREP_SIGNAL setting: {error}"

    def ready(self) -> bool:
        with self._lock:
            if self.signal is None and time.monotonic() - self._tried_at > self.RETRY_S:
                self._load()
            return self.signal is not None

    def new_session(self) -> Session:
        assert self.signal is not None
        return Session(self.signal)

    def banner(self) -> str:
        """The page's warning line: why counting is off, or nothing."""
        self.ready()
        return f"### ⚠️ {self.error}" if self.error else ""


class FrameLog:
    """Optional JSONL log of webcam frames (FLOWREP_FRAME_LOG), for tests and scripts/measure_app.py."""

    def __init__(self, path: str | None) -> None:
        self._file = open(path, "a", buffering=1) if path else None  # noqa: SIM115  open while the server runs
        self._lock = threading.Lock()

    def write(self, **entry: Any) -> None:
        if self._file is not None:
            with self._lock:
                self._file.write(json.dumps(entry) + "\n")


class RunFolders:
    """One folder per counted clip or finished workout ("run-*") under a work dir; old ones are deleted."""

    def __init__(self, root: Path, keep_s: float = KEEP_FILES_S) -> None:
        self.root = root
        self.keep_s = keep_s
        root.mkdir(parents=True, exist_ok=True)

    def new(self) -> Path:
        self._prune()
        return Path(tempfile.mkdtemp(prefix="run-", dir=self.root))

    def remove(self, run: Path) -> None:
        """Deletes a run's folder now (its clip failed or was cancelled: nothing in it is wanted)."""
        if run.parent == self.root and run.name.startswith("run-"):
            shutil.rmtree(run, ignore_errors=True)

    def _prune(self) -> None:
        now = time.time()
        for run in self.root.glob("run-*"):
            if now - run.stat().st_mtime > self.keep_s:
                shutil.rmtree(run, ignore_errors=True)


@dataclass(frozen=True)
class Services:
    """Everything the tabs share, made once by app.py."""

    engine: Engine
    log: FrameLog
    runs: RunFolders
    limits: ClipLimits
    pool: CountPool | None = None  # the upload tab's worker processes (None: the tab makes its own)
