"""What a `--ray` run reports: each clip's outcome on its worker, the run's summary (where the clips
were counted, how long Ray's start-up and the counting took) and the bench report that carries it.
Plain data, no Ray: the driver builds these from what the workers send back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .bench import BenchReport, ClipScore

FPS_IS = "aggregate over the cluster: every clip's frames / the run's wall time (Ray's start-up excluded)"
PEAK_RSS_IS = "the largest of the workers' peaks"


@dataclass(frozen=True)
class WorkerId:
    node_ip: str
    node_id: str
    pid: int

    @property
    def node(self) -> str:  # the IP alone is ambiguous when several nodes share a machine
        return f"{self.node_ip} ({self.node_id[:8]})"


@dataclass(frozen=True)
class Counted:
    """One clip as a worker counted it (value: its JSON line or ClipScore), or why no worker could."""

    value: dict | ClipScore | None
    problem: str | None = None
    worker: WorkerId | None = None
    model_loaded: bool = False  # this clip's worker built its engine for it
    signal_seconds: float = 0.0
    signal_calls: int = 0
    peak_rss_mb: float = 0.0


@dataclass
class RunSummary:
    """Where and how fast the clips were counted."""

    address: str
    startup_s: float
    wall_s: float
    outcomes: list[Counted]

    @property
    def workers(self) -> set[WorkerId]:
        return {o.worker for o in self.outcomes if o.worker is not None}

    @property
    def clips_per_node(self) -> Counter[str]:
        return Counter(o.worker.node for o in self.outcomes if o.worker is not None)

    @property
    def model_loads(self) -> int:
        return sum(o.model_loaded for o in self.outcomes)

    def as_json(self) -> dict[str, object]:
        workers = Counter(w.node for w in self.workers)
        return {
            "address": self.address,
            "startup_s": round(self.startup_s, 2),
            "wall_s": round(self.wall_s, 2),
            "workers": len(self.workers),
            "model_loads": self.model_loads,
            "nodes": [
                {"node": node, "clips": clips, "workers": workers[node]}
                for node, clips in sorted(self.clips_per_node.items())
            ],
        }

    def line(self) -> str:
        nodes = ", ".join(f"{node} {clips} clips" for node, clips in sorted(self.clips_per_node.items()))
        return (
            f"ray: counted {len(self.outcomes)} clips on {len(self.clips_per_node)} node(s) by "
            f"{len(self.workers)} worker(s) (model loaded {self.model_loads}×): {nodes}; "
            f"Ray start-up {self.startup_s:.1f} s, counting {self.wall_s:.1f} s"
        )


@dataclass
class ClusterBenchReport(BenchReport):
    """The plain bench report over clips counted on the cluster: fps is the cluster's aggregate."""

    run: RunSummary | None = None

    def as_json(self) -> dict[str, object]:
        summary = super().as_json()
        if self.run is not None:
            summary["peak_rss_mb"] = round(max((o.peak_rss_mb for o in self.run.outcomes), default=0.0), 1)
            summary["ray"] = {**self.run.as_json(), "fps_is": FPS_IS, "peak_rss_mb_is": PEAK_RSS_IS}
        return summary
