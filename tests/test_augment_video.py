"""Tests for aip_keras.augment.video: the clip ops and the video policy, eagerly and inside tf.data."""
import numpy as np

from helpers import eager_and_mapped

from aip_keras import augment


def test_video_policy_ops_eagerly_and_in_tf_data():
    clips = np.random.default_rng(0).random((4, 8, 16, 16, 3)).astype("float32")
    for layer in (augment.ClipScaleCrop(seed=0), augment.TemporalSample(4, 2, seed=0),
                  augment.build_video_policy(seed=0)):
        eager, mapped = eager_and_mapped(layer, clips)
        assert eager.shape == mapped.shape and eager.shape[0] == 4
        assert 0.0 <= float(mapped.min()) and float(mapped.max()) <= 1.0
    # Same zoom, crop and flip on every frame: a clip of identical frames stays identical.
    same = np.repeat(clips[:, :1], 8, axis=1)
    out = augment.ClipScaleCrop(seed=1)(same).numpy()
    np.testing.assert_allclose(out, np.repeat(out[:, :1], 8, axis=1), atol=1e-6)
    window = augment.TemporalSample(4, 2, seed=0)
    index = np.arange(8, dtype="float32")[None, :, None, None, None] * np.ones((3, 8, 2, 2, 1), "float32")
    picked = window(index).numpy()[:, :, 0, 0, 0]
    assert all(list(np.diff(row)) == [2, 2, 2] and row[0] in (0, 1) for row in picked)
    assert window(index, training=False).numpy()[0, :, 0, 0, 0].tolist() == [0, 2, 4, 6]
