"""Tests for aip_keras.front_end: SpecAugment masks (functions and layer), eagerly and inside tf.data."""
import numpy as np
import pytest
import tensorflow as tf
from helpers import eager_and_mapped

from aip_keras import front_end


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
