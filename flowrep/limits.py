"""Upload limits: how large and how long a clip a server accepts.

Shared by the page's uploads and its /count API. What makes a clip usable at all (containers, codecs,
frame shapes) is flowrep.video's, and so is the length check itself (`count_clip(max_seconds=...)`,
on the header and then on the frames decoded); these limits only keep one visitor from holding a
server for long. Environment: FLOWREP_MAX_UPLOAD_MB (200) and FLOWREP_MAX_CLIP_S (600, as the CLI).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flowrep.video import DEFAULT_MAX_CLIP_S, VideoError, duration_text, probe, too_long_problem

__all__ = ["ClipLimits", "duration_text"]


@dataclass(frozen=True)
class ClipLimits:
    max_upload_mb: int = 200
    max_clip_s: float = DEFAULT_MAX_CLIP_S

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ClipLimits:
        return cls(
            max_upload_mb=int(environ.get("FLOWREP_MAX_UPLOAD_MB", str(cls.max_upload_mb))),
            max_clip_s=float(environ.get("FLOWREP_MAX_CLIP_S", str(cls.max_clip_s))),
        )

    def check_clip(self, path: str) -> float:
        """Raises VideoError, before any counting, for a clip over the size limit, over the length limit
        by its header, or not a video we accept; returns the clip's fps."""
        size_mb = Path(path).stat().st_size / 1e6 if Path(path).is_file() else 0.0
        if size_mb > self.max_upload_mb:
            raise VideoError(path, f"the file is {size_mb:.0f} MB; the limit is {self.max_upload_mb} MB")
        info = probe(path)
        if info.duration_s is not None and info.duration_s > self.max_clip_s:
            raise VideoError(path, too_long_problem(self.max_clip_s, info.duration_s))
        return info.fps
