"""FlowRep: counts exercise repetitions in video from optical flow (see README.md and docs/architecture.md)."""

from pathlib import Path

#: The bundled model, trained by `flowrep train` (here so that light commands need not import torch).
DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "flowrep.safetensors"
