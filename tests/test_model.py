"""The CNN's weights: shipped, loaded without pickle, and refused clearly when broken."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from flowrep.model import DEFAULT_WEIGHTS, Classifier, FlowNet, WeightsError, letterbox, load_model, to_tensor


def test_shipped_weights_are_small_safetensors_and_classify() -> None:
    assert DEFAULT_WEIGHTS.is_file(), "weights/ must ship the trained model"
    assert DEFAULT_WEIGHTS.stat().st_size < 2 * 1024 * 1024
    classifier = Classifier(DEFAULT_WEIGHTS)
    probabilities = classifier(np.zeros((72, 128, 3), np.uint8))
    assert probabilities.shape == (3,) and probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert probabilities.argmax() == 1, "a black (motionless) flow image must read as still"


def test_missing_weights_say_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found.*flowrep train"):
        load_model(tmp_path / "absent.safetensors")


def test_corrupt_weights_are_refused(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(DEFAULT_WEIGHTS.read_bytes()[:5000])
    with pytest.raises(WeightsError, match="corrupt"):
        load_model(corrupt)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x80\x04\x95 a pickle is not welcome here")
    with pytest.raises(WeightsError, match="corrupt"):
        load_model(garbage)


def test_weights_of_another_network_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.safetensors"
    state = {k: v.contiguous() for k, v in FlowNet(width=8).state_dict().items()}
    save_file(state, str(other))
    with pytest.raises(WeightsError, match="do not fit"):
        load_model(other)


def test_forward_pass_is_deterministic() -> None:
    classifier = Classifier()
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    assert np.array_equal(classifier(image), classifier(image))


def test_the_fast_frozen_classifier_reads_flow_as_the_trained_network_does() -> None:
    """The live classifier runs a frozen graph in another memory layout; its probabilities must be
    the trained network's, for flow images of any shape."""
    model = load_model()
    classifier = Classifier()
    rng = np.random.default_rng(1)
    for shape in ((72, 128, 3), (128, 96, 3), (64, 64, 3)):
        image = rng.integers(0, 255, shape, dtype=np.uint8)
        with torch.inference_mode():
            expected = torch.softmax(model(to_tensor(letterbox(image)[None])), dim=1)[0].numpy()
        assert np.allclose(classifier(image), expected, atol=1e-5)


def _saved_state(path: Path, change) -> Path:
    state = {k: v.clone().contiguous() for k, v in load_model().state_dict().items()}
    change(state)
    save_file(state, str(path))
    return path


def test_weights_full_of_nan_are_refused_at_load(tmp_path: Path) -> None:
    # A valid safetensors file: it loaded, and every clip then counted 0 without a word.
    def fill_with_nan(state: dict[str, torch.Tensor]) -> None:
        for tensor in state.values():
            if tensor.is_floating_point():
                tensor.fill_(float("nan"))

    nan = _saved_state(tmp_path / "nan.safetensors", fill_with_nan)
    with pytest.raises(WeightsError, match=r"nan\.safetensors hold values that are not finite numbers"):
        load_model(nan)
    with pytest.raises(WeightsError, match="not finite"):
        Classifier(nan)


def test_weights_whose_outputs_are_not_finite_are_refused_at_load(tmp_path: Path) -> None:
    # Every value finite, but a negative running variance makes batch norm's square root NaN.
    def negative_variance(state: dict[str, torch.Tensor]) -> None:
        state["features.0.1.running_var"].fill_(-1.0)

    bad = _saved_state(tmp_path / "bad.safetensors", negative_variance)
    with pytest.raises(WeightsError, match="give outputs that are not finite numbers"):
        load_model(bad)


def test_weights_errors_name_the_file_but_not_where_it_lies(tmp_path: Path) -> None:
    """The page shows these messages to visitors: the file's name, never the server's path."""
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(DEFAULT_WEIGHTS.read_bytes()[:5000])
    other = tmp_path / "other.safetensors"
    save_file({k: v.contiguous() for k, v in FlowNet(width=8).state_dict().items()}, str(other))
    for path in (tmp_path / "absent.safetensors", corrupt, other, tmp_path):
        with pytest.raises(WeightsError) as error:
            load_model(path)
        assert path.name in str(error.value) and str(tmp_path) not in str(error.value)
        assert error.value.path == path
