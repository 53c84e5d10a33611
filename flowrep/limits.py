"""Upload limits: how large and how long a clip a server accepts, and the checks that refuse one over them.

Shared by the page's uploads and its /count API. What makes a clip usable at all (containers, codecs,
frame shapes) is flowrep.video's; these limits only keep one visitor from holding a server for long.
Environment: FLOWREP_MAX_UPLOAD_MB (200) and FLOWREP_MAX_CLIP_S (600).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flowrep.video import VideoError, probe


def duration_text(seconds: float) -> str:
    """'10 minutes' or '45 seconds', as the page and its messages say a length."""
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


@dataclass(frozen=True)
class ClipLimits:
    max_upload_mb: int = 200
    max_clip_s: float = 600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ClipLimits:
        return cls(max_upload_mb=int(environ.get("FLOWREP_MAX_UPLOAD_MB", str(cls.max_upload_mb))),
                   max_clip_s=float(environ.get("FLOWREP_MAX_CLIP_S", str(cls.max_clip_s))))

    def check_clip(self, path: str) -> float:
        """Raises VideoError for clips over the limits (or not a video we accept); returns the clip's fps."""
        size_mb = Path(path).stat().st_size / 1e6 if Path(path).is_file() else 0.0
        if size_mb > self.max_upload_mb:
            raise VideoError(path, f"the file is {size_mb:.0f} MB; the limit is {self.max_upload_mb} MB")
        info = probe(path)
        if info.frame_count and info.frame_count / info.fps > self.max_clip_s:
            length = duration_text(round(info.frame_count / info.fps, 1))
            raise VideoError(path, f"the clip is {length} long; the limit is {duration_text(self.max_clip_s)}")
        return info.fps

    def check_time(self, path: str, time_s: float) -> None:
        """Raises VideoError once counting passes the length limit: some containers do not say their length."""
        if time_s > self.max_clip_s:
            raise VideoError(path, f"the clip is longer than the limit of {duration_text(self.max_clip_s)}")
