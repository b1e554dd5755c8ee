"""Tests for aip_keras.sources.image_chain: the patch chain, eagerly and inside tf.data, and the image seeds."""
import numpy as np
import pytest
import tensorflow as tf
from helpers import eager_and_mapped

from aip_keras.decode.image import load_image
from aip_keras.sources.image import patch_chain, single_image_dataset
from aip_keras.sources.image_chain import IMAGE_SALT, PatchChain, element_seed, image_seed


@pytest.fixture(scope="module")
def chelsea():
    return load_image("chelsea")  # 300 x 451


@pytest.mark.parametrize(
    "kwargs",
    [
        {"channels": 2},
        {"patch_size": 0},
        {"min_area": 0.5, "max_area": 0.1},
        {"min_aspect": 2.0, "max_aspect": 1.0},
        {"initial_crop": 1.5},
        {"jitter_p": 2.0},
        {"hue": 0.8},
        {"fill_mode": "mirror"},
    ],
)
def test_bad_chain_arguments_raise(kwargs):
    kwargs = {"patch_size": 32, **kwargs}
    with pytest.raises(ValueError) as excinfo:
        PatchChain(**kwargs)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("channels", [3, 1])
def test_chain_eager_and_in_dataset_map(chelsea, channels):
    chain = PatchChain(24, channels=channels)
    seeds = np.array([[i, 7] for i in range(4)], np.int64)

    def four_patches(image, seeds):
        return tf.stack([chain(image, seed) for seed in tf.unstack(seeds, num=4)])

    eager, mapped = eager_and_mapped(four_patches, chelsea, seeds)
    for out in (eager, mapped):
        assert out.shape == (4, 24, 24, channels) and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 1.0 and out.std() > 0.01
    np.testing.assert_allclose(eager, mapped, atol=1e-6)
    float_image = chelsea.astype(np.float32) / 255.0  # float [0, 1] input works too
    np.testing.assert_allclose(chain(float_image, 3).numpy(), chain(chelsea, 3).numpy(), atol=1e-5)
    assert patch_chain(chelsea, seed=3, patch_size=24, channels=channels).shape == (24, 24, channels)


def test_affine_is_centre_crop_and_ccw_rotation(chelsea):
    for size in (32, 23):  # even and odd margins ceil(sqrt(2) S) - S
        still = PatchChain(size, rotation=0, shear=0, jitter_p=0)
        params = still.sample_params(chelsea.shape, 5)
        big = still.crop_and_resize(chelsea, params).numpy()
        assert big.shape == (still.resize_size,) * 2 + (3,)
        off = int(round((still.resize_size - size) / 2))
        centre = big[off : off + size, off : off + size]
        np.testing.assert_allclose(still(chelsea, 5).numpy(), centre, atol=1e-5)
    quarter = PatchChain(32, rotation=(90, 90), shear=0, jitter_p=0)
    big = quarter.crop_and_resize(chelsea, quarter.sample_params(chelsea.shape, 5)).numpy()
    centre = big[7:39, 7:39]
    np.testing.assert_allclose(quarter(chelsea, 5).numpy(), np.rot90(centre, 1), atol=1e-5)


def test_vertical_flip_option(chelsea):
    plain, flipping = PatchChain(16), PatchChain(16, vertical_flip=True)
    flips = []
    for i in range(12):
        a, b = plain(chelsea, i).numpy(), flipping(chelsea, i).numpy()
        flipped = bool(flipping.sample_params(chelsea.shape, i)["flip"])
        np.testing.assert_allclose(b, a[::-1] if flipped else a, atol=1e-6)
        flips.append(flipped)
    assert 0 < sum(flips) < len(flips)


def test_jitter_probability(chelsea):
    plain, none = PatchChain(16), PatchChain(16, jitter_p=0.0)
    changed, drawn = [], []
    for i in range(16):
        changed.append(not np.allclose(plain(chelsea, i).numpy(), none(chelsea, i).numpy(), atol=1e-6))
        drawn.append(bool(plain.sample_params(chelsea.shape, i)["jitter"]))
    assert changed == drawn and 0 < sum(drawn) < 16


def test_image_seeds():
    np.testing.assert_array_equal(image_seed(5).numpy(), [5, IMAGE_SALT])
    np.testing.assert_array_equal(image_seed(tf.constant(5)).numpy(), [5, IMAGE_SALT])
    np.testing.assert_array_equal(image_seed(tf.constant([1, 2])).numpy(), [1, 2])
    first = element_seed(3, 0).numpy()
    np.testing.assert_array_equal(first, element_seed(3, tf.constant(0)).numpy())
    assert not np.array_equal(first, element_seed(3, 1).numpy())
    assert not np.array_equal(first, element_seed(4, 0).numpy())
    # Patch i of a stream is the chain with element_seed(seed, i).
    chelsea = load_image("chelsea")
    stream = next(iter(single_image_dataset(chelsea, patch_size=16, seed=3).skip(2))).numpy()
    np.testing.assert_allclose(stream, PatchChain(16)(chelsea, element_seed(3, 2)).numpy(), atol=1e-6)
