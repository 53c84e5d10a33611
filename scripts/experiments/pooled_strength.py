"""Session 28: a sample's strength of repetition read from the pooled profile (its context of a few
seconds) instead of, or as well as, its own window's. A replay experiment, not shipped. See
docs/experiments.md, "Session 28".

    python scripts/replay_counts.py record                                  # the cached counter inputs
    V=pooled|max|mean PYTHONPATH=. python scripts/experiments/pooled_strength.py         # seed 0 and files
    V=pooled|max|mean PYTHONPATH=. python scripts/experiments/pooled_strength.py seeds   # webcam seeds 1-9

The period is chosen as shipped; its strength (what `min_strength` and the first reps' median are
judged on) becomes the pooled profile's height at the chosen peak (`pooled`), the larger of that and
the frame's own (`max`), or their mean (`mean`); `shipped` leaves it. Prints dejudder.py's figures
(whole clips per half, and each file's first 5 s) or seeds.py's.
"""

from __future__ import annotations

import os
import sys

import flowrep.periodicity as periodicity
from flowrep import similarity

VARIANT = os.environ.get("V", "shipped")
_choose_period = similarity.choose_period


def choose_period(peaks, local, shortest_lag, near, previous=None):
    found = _choose_period(peaks, local, shortest_lag, near, previous)
    if found is None or VARIANT == "shipped":
        return found
    lag, own = found
    lags, heights = peaks
    pooled = heights[lags.index(similarity._shortest_near_best(lags, heights, near, previous))]
    return lag, {"pooled": pooled, "max": max(own, pooled), "mean": 0.5 * (own + pooled)}[VARIANT]


def main() -> int:
    periodicity.choose_period = choose_period  # type: ignore[assignment]
    if sys.argv[1:] == ["seeds"]:
        from scripts.experiments import seeds

        sys.argv = ["seeds.py", "replay", "1,2,3,4,5,6,7,8,9"]
        return seeds.main()
    from scripts.experiments import dejudder

    sys.argv = ["dejudder.py", "0", "2"]
    return dejudder.main()


if __name__ == "__main__":
    sys.exit(main())
