"""Tests for aip_keras.datasets.video: the cifar10_clips proxy video task."""
import numpy as np
import pytest

from aip_keras import datasets


def test_cifar10_clips_set():
    clips = datasets.load_video_set("cifar10_clips", split="test", frames=4, clip_size=16)
    assert (clips.num_examples, clips.num_classes, clips.image_shape) == (10000, 10, (4, 16, 16, 3))
    x1, y1 = next(iter(clips.dataset(8, limit=8, seed=3)))
    x2, y2 = next(iter(clips.dataset(8, limit=8, seed=3)))
    np.testing.assert_array_equal(x1.numpy(), x2.numpy())  # a fixed camera move per image
    assert not np.allclose(x1[:, 0], x1[:, -1])  # the camera moves
    assert datasets.load("cifar10_clips").image_shape == (8, 32, 32, 3)
    with pytest.raises(ValueError, match="unknown video dataset"):
        datasets.load_video_set("kinetics")
