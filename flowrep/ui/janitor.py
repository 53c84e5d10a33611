"""Nothing piles up on the server's disk: the upload cache (Gradio's GRADIO_TEMP_DIR, where uploads
land) and the run folders (each counted clip's downloads) are kept under a size as well as an age.

Gradio deletes cached files by age itself (build_demo's delete_cache); this adds, every SWEEP_EVERY_S
and at start-up: partial uploads (the `tmp*` files Gradio writes an upload into before it moves it;
an upload that failed or was killed leaves one behind) removed at start and, later, once they have
not been written to for PARTIAL_AFTER_S; then, while the whole is over its size, the oldest files
(none written to in the last MIN_AGE_S, which a clip being counted may still be) go first; empty
folders go too.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SWEEP_EVERY_S = 60.0
PARTIAL_AFTER_S = 600.0
MIN_AGE_S = 120.0
DEFAULT_CACHE_MB = 2000


def upload_dir() -> Path:
    """Where Gradio puts uploads: GRADIO_TEMP_DIR, else <system temp>/gradio (Gradio's own default)."""
    import tempfile

    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")


@dataclass
class Janitor:
    roots: tuple[Path, ...]  # the upload cache first, then the run folders' root
    max_bytes: int
    swept_bytes: int = 0  # in all, since start (for logs and tests)
    _emptied: set[Path] = field(default_factory=set)  # folders this sweep took a file from

    @classmethod
    def from_env(cls, runs_root: Path) -> Janitor:
        megabytes = float(os.environ.get("FLOWREP_CACHE_MB", str(DEFAULT_CACHE_MB)))
        return cls((upload_dir(), runs_root), int(megabytes * 1e6))

    def start(self) -> None:
        """Cleans what a previous run left half done, then sweeps every SWEEP_EVERY_S on a daemon thread."""
        self.sweep(partial_after_s=0.0)
        threading.Thread(target=self._loop, name="flowrep-janitor", daemon=True).start()

    def _loop(self) -> None:
        while True:
            time.sleep(SWEEP_EVERY_S)
            try:
                self.sweep()
            except OSError as error:  # a file gone under us, a permission: try again next time
                print(f"flowrep janitor: {error}", flush=True)

    def sweep(self, partial_after_s: float = PARTIAL_AFTER_S, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self._emptied = set()
        uploads = self.roots[0]
        if uploads.is_dir():
            for partial in uploads.glob("tmp*"):
                if partial.is_file() and now - _mtime(partial, now) >= partial_after_s:
                    self._remove(partial)
        found = {f for root in self.roots if root.is_dir() for f in root.rglob("*") if f.is_file()}  # roots may nest
        files = [(_mtime(f, now), f) for f in found]
        total = sum(_size(f) for _, f in files)
        for mtime, file in sorted(files, key=lambda item: item[0]):
            if total <= self.max_bytes or now - mtime < MIN_AGE_S:
                break
            total -= self._remove(file)
        for root in self.roots:
            if root.is_dir():
                for folder in sorted((d for d in root.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
                    if folder not in self.roots and (folder in self._emptied or now - _mtime(folder, now) >= MIN_AGE_S):
                        try:
                            folder.rmdir()  # only if empty
                        except OSError:
                            pass

    def _remove(self, file: Path) -> int:
        size = _size(file)
        try:
            file.unlink()
        except FileNotFoundError:
            return 0
        self.swept_bytes += size
        self._emptied.add(file.parent)  # perhaps: its folder goes if nothing else is in it
        return size


def _mtime(path: Path, default: float) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return default


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
