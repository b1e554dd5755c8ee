"""Tests for aip_keras.models.audio: audio_cnn and audio_efficientnet_b0 (the log-mel front end is tested in
test_front_end.py)."""
import numpy as np
import pytest

from aip_keras import models
from aip_keras.model_facts import audio_format
from aip_keras.teachers import load_audio_model


def test_audio_efficientnet_b0_builds_offline():
    model = models.build("audio_efficientnet_b0", (8000,), 10, sample_rate=8000)
    assert model.input_shape == (None, 8000) and model.output_shape == (None, 10)
    assert 4_000_000 < model.count_params() < 4_200_000
    assert audio_format(model) == {"sample_rate": 8000, "samples": 8000}


def test_audio_cnn_takes_waveforms_and_saves(tmp_path):
    arch = "audio_cnn"
    model = models.build(arch, (8000,), 10, sample_rate=8000)
    assert model.input_shape == (None, 8000) and model.output_shape == (None, 10)
    x = np.random.default_rng(0).normal(0, 0.1, (2, 8000)).astype(np.float32)
    before = model.predict(x, verbose=0)
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    loaded, fmt = load_audio_model(path)
    assert fmt == {"sample_rate": 8000, "samples": 8000}
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, atol=1e-5)
    # Gain does not change the prediction: the log-mel is standardised per example.
    np.testing.assert_allclose(model.predict(4 * x, verbose=0), before, atol=2e-3)


def test_audio_cnn_options_and_bad_shapes():
    small = models.build("audio_cnn", (16000,), 5, widths=(8, 16), spec_augment=False, dropout=0.0)
    assert "spec_augment" not in [layer.name for layer in small.layers]
    assert small.count_params() < 3000
    with pytest.raises(ValueError, match=r"input_shape must be \(samples,\)"):
        models.build("audio_cnn", (28, 28, 1), 10)
    with pytest.raises(ValueError, match="unknown spec_augment options"):
        models.build("audio_cnn", (16000,), 10, spec_augment={"width": 3})
