"""Tests for aip_keras.front_end: SpecAugment masks (functions and layer), eagerly and inside tf.data, and the
log-mel front end against a numpy/scipy reference."""
import keras
import numpy as np
import pytest
import scipy.signal
import tensorflow as tf
from helpers import eager_and_mapped

from aip_keras import front_end
from aip_keras.front_end import LogMel, log_mel


SPEC_OPS = {
    "freq_mask": lambda x, s: front_end.freq_mask(x, s, max_width=8, count=2),
    "time_mask": lambda x, s: front_end.time_mask(x, s, max_width=10, count=2),
}


@pytest.mark.parametrize("name", sorted(SPEC_OPS))
def test_spec_masks_eager_equals_tf_data_map(name):
    spec = np.random.default_rng(3).normal(size=(8, 50, 32)).astype(np.float32) + 5.0  # no zeros of its own
    seed = tf.constant([9, 9], tf.int64)
    eager, mapped = eager_and_mapped(SPEC_OPS[name], spec, seed)
    np.testing.assert_array_equal(eager, mapped)
    masked = eager == 0
    axis = 1 if name == "freq_mask" else 2  # collapse the other axis
    lines = masked.all(axis=axis)  # (B, mels) or (B, frames)
    assert np.array_equal(masked.any(axis=axis), lines)  # whole rows / columns, never single cells
    assert lines.any() and np.all(lines.sum(-1) <= 2 * (8 if name == "freq_mask" else 10))


def test_spec_augment_layer_trains_only():
    layer = front_end.SpecAugment(seed=0)
    spec = np.ones((4, 100, 64, 1), np.float32)
    assert np.array_equal(layer(spec, training=False), spec)
    masked, mapped = eager_and_mapped(lambda s: layer(s, training=True), spec)
    assert masked.shape == spec.shape and (masked == 0).any()
    assert mapped.shape == spec.shape and (mapped == 0).any()
    restored = front_end.SpecAugment.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()


def test_log_mel_layer_eager_equals_tf_data_map():
    layer = front_end.LogMel(sample_rate=8000, num_mels=40)
    x = np.random.default_rng(5).normal(0, 0.1, (2, 8000)).astype(np.float32)
    eager, mapped = eager_and_mapped(layer, x)
    assert eager.shape == (2, *layer.compute_output_shape((None, 8000))[1:]) and eager.dtype == np.float32
    np.testing.assert_allclose(eager, mapped, atol=1e-3)  # dB: graph and eager kernels differ in float32
    np.testing.assert_allclose(eager, front_end.log_mel(x, sample_rate=8000, num_mels=40).numpy(), atol=1e-3)


# Stated tolerance of the front end against the float64 numpy/scipy reference, in dB.
LOG_MEL_TOLERANCE_DB = 0.01


def _htk_mel(f):
    return 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)


def reference_log_mel(x, rate=16000, window=400, hop=160, nfft=512, mels=64, fmin=20.0, fmax=None, top_db=80.0):
    """Float64 numpy/scipy log-mel: end-padded frames, periodic Hann, |rfft|^2, HTK triangles, 10 log10."""
    fmax = rate / 2 if fmax is None else fmax
    n_frames = -(-len(x) // hop)
    padded = np.concatenate([x.astype(np.float64), np.zeros(n_frames * hop + window - len(x))])
    frames = np.stack([padded[i * hop:i * hop + window] for i in range(n_frames)])
    power = np.abs(np.fft.rfft(frames * scipy.signal.get_window("hann", window), n=nfft)) ** 2
    # Triangles in the mel domain with peak 1; the DC bin gets no weight.
    bins_mel = _htk_mel(np.linspace(0, rate / 2, nfft // 2 + 1))
    edges = np.linspace(_htk_mel(fmin), _htk_mel(fmax), mels + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    up = (bins_mel[:, None] - lower) / (centre - lower)
    down = (upper - bins_mel[:, None]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(up, down))
    weights[0] = 0.0
    db = 10 * np.log10(np.maximum(power @ weights, 1e-10))
    return np.maximum(db, db.max() - top_db)


@pytest.fixture(scope="module")
def signals():
    rng = np.random.default_rng(0)
    t = np.arange(12000) / 16000
    chirp = scipy.signal.chirp(t, 100, t[-1], 6000) * 0.3
    noise = rng.normal(0, 0.01, 12000)
    silence_then_tone = np.where(t > 0.4, 0.5 * np.sin(2 * np.pi * 1000 * t), 0.0)
    return np.stack([chirp + noise, 0.001 * noise, silence_then_tone]).astype(np.float32)


def test_log_mel_matches_numpy_reference(signals):
    out = log_mel(signals).numpy()
    assert out.shape == (3, 75, 64)
    for got, x in zip(out, signals):  # the top-dB floor is per example
        np.testing.assert_allclose(got, reference_log_mel(x), atol=LOG_MEL_TOLERANCE_DB)


def test_log_mel_other_settings_match_reference(signals):
    x = signals[0, :8000]
    out = log_mel(x, sample_rate=8000, num_mels=40, fmin=0.0, fmax=3800.0, top_db=None).numpy()
    ref = reference_log_mel(x, rate=8000, window=200, hop=80, nfft=256, mels=40, fmin=0.0, fmax=3800.0, top_db=1e9)
    np.testing.assert_allclose(out, ref, atol=LOG_MEL_TOLERANCE_DB)


def test_mel_filterbank_agrees_with_keras(signals):
    """keras.layers.MelSpectrogram's own HTK filterbank gives the same mel weights as ours."""
    keras_matrix = np.asarray(keras.layers.MelSpectrogram().linear_to_mel_weight_matrix(
        num_mel_bins=64, num_spectrogram_bins=257, sampling_rate=16000, lower_edge_hertz=20.0, upper_edge_hertz=8000.0))
    ours = tf.signal.linear_to_mel_weight_matrix(64, 257, 16000, 20.0, 8000.0).numpy()  # what tfio.melscale uses
    np.testing.assert_allclose(ours, keras_matrix, atol=1e-5)


def test_log_mel_layer_in_tf_data_and_config(signals):
    layer = LogMel()
    eager = layer(signals).numpy()
    mapped = next(iter(tf.data.Dataset.from_tensors(signals).map(layer))).numpy()
    np.testing.assert_allclose(mapped, eager, atol=1e-3)  # dB; graph and eager FFTs differ in float32 rounding
    assert layer.compute_output_shape((None, 16000)) == (None, 100, 64)
    restored = LogMel.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="mel range"):
        LogMel(sample_rate=8000, fmax=6000)
