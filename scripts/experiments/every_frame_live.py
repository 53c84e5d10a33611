"""A live set fed every frame of a folder's clips (a client that sends frames faster than the page's
camera): the final count (the set's whole evidence) and the live count as each clip ended. The
Session counts at most 10 frames a second whatever it is sent, so these should stay near the
`flowrep bench --webcam` figures. The model card's "every frame of the clips, live" line.

    PYTHONPATH=. python scripts/experiments/every_frame_live.py ../shared/data/exercise
"""

from __future__ import annotations

import sys
from pathlib import Path

from flowrep.bench import BenchReport, ClipScore, read_labels
from flowrep.pipeline import Session, count_clip
from flowrep.signals import make_signal


def main() -> int:
    folder = Path(sys.argv[1])
    session = Session(make_signal("cnn"))
    report = BenchReport()
    for label in read_labels(folder):
        result = count_clip(folder / label.file, session, live=True)
        report.clips.append(
            ClipScore(label.file, label.count, result.count, 0.0, result.frames, live_count=result.live_count)
        )
        print(f"{label.file}: {result.count} of {label.count} (live count as it ended {result.live_count})", flush=True)
    shown = report.live_count or {}
    print(
        f"{folder.name}: MAE {report.mae:.3f} / OBO {report.obo:.2f}; live count as each clip ended "
        f"{shown.get('mae', float('nan')):.3f} / {shown.get('obo', float('nan')):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
