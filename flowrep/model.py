"""The CNN that classifies a colour-coded flow image as moving down, still or moving up.

Owns: the network, the preprocessing from a colour-coded flow image to its input tensor, and
saving/loading weights as safetensors (never pickle), with clear errors for missing or bad files.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from . import DEFAULT_WEIGHTS
from .redact import without_paths

CLASSES = ("down", "still", "up")
INPUT_SIZE = 64


def use_one_thread() -> None:
    """Counting feeds the CNN one small flow image at a time, where torch's threads cost more than
    they give. A process-wide setting, so the entry points that count (the CLI, the page, Ray
    workers) call this, not the library."""
    torch.set_num_threads(1)


class WeightsError(Exception):
    """The model's weights cannot be used; str() says which file, by its name (the page shows it to
    visitors, so never the server's path), and why. `path` is the full path, for logs and the CLI."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


def _block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class FlowNet(nn.Module):
    """Four 3×3 conv blocks, global average + max pooling, one linear layer: ~50 k parameters."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _block(3, width, 2),
            _block(width, 2 * width, 2),
            _block(2 * width, 3 * width, 2),
            _block(3 * width, 4 * width, 1),
        )
        self.head = nn.Linear(8 * width, len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        pooled = torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3))], dim=1)
        return self.head(pooled)


def letterbox(image: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """Fits an image into size×size without distorting it, padding with black (= no motion)."""
    height, width = image.shape[:2]
    scale = size / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((size, size, 3), np.uint8)
    top, left = (size - new_h) // 2, (size - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas


def to_tensor(images_bgr: np.ndarray) -> torch.Tensor:
    """N×S×S×3 uint8 letterboxed BGR images → N×3×S×S float tensor in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images_bgr)).permute(0, 3, 1, 2).float().div_(255.0)


def save_weights(model: FlowNet, path: Path, metadata: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"flowrep": json.dumps(metadata)})


def load_model(path: Path | str = DEFAULT_WEIGHTS) -> FlowNet:
    """Loads weights saved by save_weights, in eval mode; raises WeightsError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(path, f"model weights not found ({path.name}); run 'flowrep train' to make them")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        detail = without_paths(error.strerror or str(error) if isinstance(error, OSError) else str(error))
        raise WeightsError(path, f"model weights {path.name} are corrupt or not safetensors ({detail})") from error
    model = FlowNet()
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0]
        mismatch = f"model weights {path.name} do not fit this version's network ({first_line})"
        raise WeightsError(path, mismatch) from error
    model.eval()
    if problem := _non_finite_problem(model):
        raise WeightsError(path, f"model weights {path.name} {problem}; every clip would count 0")
    return model


def _non_finite_problem(model: FlowNet) -> str | None:
    """Why the network cannot give probabilities (values or outputs that are NaN or infinite), or None."""
    if not all(torch.isfinite(tensor).all() for tensor in model.state_dict().values()):
        return "hold values that are not finite numbers (NaN or infinity)"
    probes = torch.stack(
        [
            torch.zeros(3, INPUT_SIZE, INPUT_SIZE),
            torch.full((3, INPUT_SIZE, INPUT_SIZE), 0.5),
            torch.rand(3, INPUT_SIZE, INPUT_SIZE, generator=torch.Generator().manual_seed(0)),
        ]
    )
    with torch.inference_mode():
        outputs = model(probes)
    if not torch.isfinite(outputs).all():
        return "give outputs that are not finite numbers (NaN or infinity)"
    return None


class Classifier:
    """Runs the CNN on one colour-coded flow image at a time, as a frozen TorchScript graph
    (about 40 % faster than eager mode for single frames on a CPU), in channels-last layout. The
    input already is (an H×W×3 image viewed as 3×H×W); a network in the default layout converts
    tensors between the two at every layer: 0.46 ms a forward pass on this repo's CPU, against 0.26."""

    def __init__(self, path: Path | str = DEFAULT_WEIGHTS) -> None:
        model = load_model(path).to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs lack it
        example = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE).contiguous(memory_format=torch.channels_last)
        # TorchScript is deprecated in favour of torch.compile, which needs a compiler at run time;
        # with torch pinned to 2.13 the traced graph stays the fastest plain-CPU option.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._forward = torch.jit.freeze(torch.jit.trace(model, example))

    @torch.inference_mode()
    def __call__(self, flow_bgr: np.ndarray) -> np.ndarray:
        """P(down), P(still), P(up) for one colour-coded flow image of any size."""
        batch = to_tensor(letterbox(flow_bgr)[None])
        return torch.softmax(self._forward(batch), dim=1)[0].numpy()
