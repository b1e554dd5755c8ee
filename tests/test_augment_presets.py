"""Tests for aip_keras.augment.presets: the per-sample ops and the named policies, eagerly and inside tf.data."""
import numpy as np
import pytest
import tensorflow as tf

import keras
from helpers import assert_unit_range, input_output_pairs, random_images

from aip_keras import augment
from aip_keras.augment import (
    PRESETS,
    ColorJitter,
    RandomGrayscale,
    RandomPadCrop,
    RandomResizedCrop,
    RandomSolarize,
    apply_policy,
    build_policy,
)


@pytest.mark.parametrize("mode,np_mode", [("constant", "constant"), ("reflect", "reflect")])
def test_random_pad_crop_windows_of_padded_input(mode, np_mode):
    layer = RandomPadCrop(padding=4, padding_mode=mode, seed=0)
    x = random_images((8, 12, 12, 3))
    for inp, out in input_output_pairs(layer, x):
        assert out.shape == inp.shape
        padded = np.pad(inp, [(0, 0), (4, 4), (4, 4), (0, 0)], mode=np_mode)
        offsets = []
        for i in range(len(inp)):
            hits = [
                (oy, ox)
                for oy in range(9)
                for ox in range(9)
                if np.array_equal(out[i], padded[i, oy : oy + 12, ox : ox + 12])
            ]
            assert hits, "output is not a window of the padded image"
            offsets.append(hits[0])
        assert len(set(offsets)) > 1  # per-sample offsets


def test_random_pad_crop_to_other_size():
    out = RandomPadCrop(padding=2, size=10, seed=0)(random_images((2, 12, 12, 1)))
    assert tuple(out.shape) == (2, 10, 10, 1)
    with pytest.raises(ValueError, match="cannot crop"):
        RandomPadCrop(padding=0, size=16)(random_images((2, 12, 12, 1)))


def test_random_resized_crop():
    x = random_images((4, 16, 16, 3))
    full = RandomResizedCrop(16, scale=(1.0, 1.0), ratio=(1.0, 1.0), seed=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(full(x)), x, atol=1e-5)
    for size in (8, 24):
        layer = RandomResizedCrop(size, seed=0)
        for inp, out in input_output_pairs(layer, x):
            assert out.shape == (4, size, size, 3)
            assert_unit_range(out)


def test_color_jitter_and_solarize():
    x = random_images((6, 8, 8, 3))
    for inp, out in input_output_pairs(ColorJitter(0, 0, 0, 0, seed=0), x):
        np.testing.assert_allclose(out, inp, atol=1e-6)
    for layer in (ColorJitter(0.4, 0.4, 0.4, 0.4, probability=0.8, seed=0), RandomSolarize(probability=0.5, seed=0)):
        for inp, out in input_output_pairs(layer, x):
            assert out.shape == inp.shape
            assert_unit_range(out)
    grey = keras.ops.convert_to_numpy(ColorJitter(seed=0)(random_images((2, 8, 8, 1))))
    assert grey.shape == (2, 8, 8, 1)
    sol = keras.ops.convert_to_numpy(RandomSolarize(0.5, probability=1.0)(np.array([[[[0.2, 0.5, 0.9]]]], "float32")))
    np.testing.assert_allclose(sol.ravel(), [0.2, 0.5, 0.1], atol=1e-6)


def test_random_grayscale_per_sample_and_seed_in_config():
    x = random_images((16, 8, 8, 3))
    layer = RandomGrayscale(0.5, seed=0)
    for inp, out in input_output_pairs(lambda b: layer(b, training=True), x):
        assert out.shape == inp.shape
        grey = np.all(np.ptp(out, axis=-1) < 1e-6, axis=(1, 2))  # all three channels equal
        kept = np.array([np.array_equal(o, i) for o, i in zip(out, inp)])
        assert np.all(grey | kept) and 0 < grey.sum() < 16  # per sample: either greyed or untouched
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(RandomGrayscale(1.0, seed=0)(x, training=False)), x)
    config = layer.get_config()
    assert config["seed"] == 0
    assert RandomGrayscale.from_config(config).get_config() == config


@pytest.mark.parametrize(
    "name,size,out_size", [("none", 32, 32), ("cifar", 32, 32), ("imagenet", 24, 24), ("imagenet", None, 224)]
)
def test_presets_shape_dtype_range(name, size, out_size):
    policy = build_policy(name, size, seed=0)
    x = random_images((4, 32, 32, 3))
    pairs = input_output_pairs(policy, x)
    ds = apply_policy(tf.data.Dataset.from_tensor_slices(x).batch(2), policy)
    pairs += [(None, b.numpy()) for b in ds]
    for _, out in pairs:
        assert out.shape[1:] == (out_size, out_size, 3)
        assert_unit_range(out)
    if name == "none":
        np.testing.assert_array_equal(pairs[0][1], x)


@pytest.mark.parametrize("name", ["cifar", "imagenet"])
def test_presets_vary_per_sample(name):
    # The same image 16 times: per-sample ops must give different outputs.
    x = np.repeat(random_images((1, 32, 32, 3)), 16, axis=0)
    policy = build_policy(name, 32, seed=0, cutmix_alpha=0.0)
    for _, out in input_output_pairs(policy, x):
        distinct = {out[i].tobytes() for i in range(16)}
        assert len(distinct) >= 8


def test_cifar_flips_vary_per_sample():
    x = np.repeat(random_images((1, 8, 8, 3)), 16, axis=0)
    out = keras.ops.convert_to_numpy(build_policy("cifar", 8, seed=0, padding=0, cutmix_alpha=0.0)(x))
    flipped = [bool(np.array_equal(o, x[0, :, ::-1])) for o in out]
    assert 0 < sum(flipped) < 16


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_seeded_determinism_and_config(name):
    x = random_images((4, 32, 32, 3))
    a = keras.ops.convert_to_numpy(build_policy(name, 32, seed=7)(x))
    b = keras.ops.convert_to_numpy(build_policy(name, 32, seed=7)(x))
    np.testing.assert_array_equal(a, b)
    if name != "none":
        c = keras.ops.convert_to_numpy(build_policy(name, 32, seed=8)(x))
        assert not np.array_equal(a, c)
    policy = build_policy(name, 32, seed=7)
    clone = keras.layers.Pipeline.from_config(policy.get_config())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(x)), a)


def test_layer_configs_round_trip():
    for layer in (
        RandomPadCrop(4, 30, "reflect", seed=3),
        RandomResizedCrop(20, (0.2, 1.0), seed=4),
        ColorJitter(0.1, 0.2, 0.3, 0.05, 0.8, seed=5),
        RandomSolarize(0.6, 0.3, seed=6),
    ):
        clone = keras.layers.deserialize(keras.layers.serialize(layer))
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_errors_are_one_line():
    cases = [
        (lambda: build_policy("autoaugment", 32), "Unknown augmentation policy"),
        (lambda: build_policy("cifar", 32, hue=0.1), "Unknown option"),
        (lambda: apply_policy(tf.data.Dataset.from_tensor_slices(random_images((4, 8, 8, 3))), build_policy("none")), "batch"),
        (
            lambda: apply_policy(
                tf.data.Dataset.from_tensor_slices((random_images((4, 8, 8, 3)), np.zeros(4, "int32"))).batch(2),
                build_policy("none"),
            ),
            "labels are never mixed",
        ),
    ]
    for fn, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            fn()
        assert "\n" not in str(info.value)


def test_package_exports():
    assert set(PRESETS) == {"none", "cifar", "imagenet"}
    assert augment.build_policy is build_policy
