"""Tests for aip_keras.augment: every op eagerly and inside tf.data.Dataset.map."""
import numpy as np
import pytest
import tensorflow as tf

import keras
from helpers import eager_and_mapped

from aip_keras import augment
from aip_keras.augment import (
    PRESETS,
    ColorJitter,
    CutMix,
    MixUp,
    RandomPadCrop,
    RandomResizedCrop,
    RandomSolarize,
    apply_policy,
    build_policy,
)


def _images(shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _eager_and_mapped(layer, x):
    """[(input, output)] pairs: once eagerly, then two passes inside Dataset.map (`helpers.eager_and_mapped`)."""
    return [(x, out) for out in eager_and_mapped(layer, x, passes=2)]


def _check_range(y):
    assert y.dtype == np.float32
    assert y.min() >= 0.0 and y.max() <= 1.0


def _box_of(x, y):
    """The changed-pixel mask (B, [T,] H, W); asserts it is one rectangle shared by all."""
    diff = np.any(x != y, axis=-1)
    union = diff.reshape(-1, *diff.shape[-2:]).any(axis=0)
    rows, cols = union.any(axis=1), union.any(axis=0)
    for line in (rows, cols):
        idx = np.flatnonzero(line)
        if idx.size:
            assert np.all(np.diff(idx) == 1), "changed rows/columns are not contiguous"
    assert np.array_equal(union, np.outer(rows, cols)), "changed pixels are not a rectangle"
    for per_image in diff.reshape(-1, *diff.shape[-2:]):
        # Every image (and every frame) carries the same box, or none when a permutation
        # pairs it with itself (random floats never coincide otherwise).
        assert np.array_equal(per_image, union) or not per_image.any()
    return union


@pytest.mark.parametrize("pair", ["reverse", "permute"])
def test_cutmix_one_box_per_batch_from_partner(pair):
    layer = CutMix(alpha=1.0, pair=pair, seed=3)
    x = _images((6, 16, 16, 3))
    nonempty = 0
    for _ in range(4):
        for inp, out in _eager_and_mapped(layer, x):
            assert out.shape == inp.shape
            _check_range(out)
            box = _box_of(inp, out)
            np.testing.assert_array_equal(out[:, ~box], inp[:, ~box])
            if not box.any():
                continue
            nonempty += 1
            if pair == "reverse":
                np.testing.assert_array_equal(out[:, box], inp[::-1][:, box])
            else:
                assert sum(bool(d[box].any()) for d in np.any(inp != out, axis=-1)) >= 1
                sources = [
                    [j for j in range(len(inp)) if np.array_equal(out[i][box], inp[j][box])] for i in range(len(inp))
                ]
                assert all(len(s) == 1 for s in sources)
                assert sorted(s[0] for s in sources) == list(range(len(inp)))  # a permutation
    assert nonempty >= 6


def test_cutmix_video_same_box_on_every_frame():
    layer = CutMix(alpha=1.0, pair="reverse", seed=1)
    x = _images((4, 3, 12, 12, 3))
    seen = 0
    for _ in range(3):
        for inp, out in _eager_and_mapped(layer, x):
            assert out.shape == (4, 3, 12, 12, 3)
            _check_range(out)
            box = _box_of(inp, out)  # one H x W box for every sample and frame
            seen += int(box.any())
            np.testing.assert_array_equal(out[:, :, box], inp[::-1][:, :, box])
    assert seen >= 3


def test_cutmix_probability_zero_and_inference_are_identity():
    x = _images((4, 8, 8, 3))
    for inp, out in _eager_and_mapped(CutMix(alpha=1.0, probability=0.0, seed=0), x):
        np.testing.assert_array_equal(out, inp)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(CutMix(seed=0)(x, training=False)), x)


def test_cutmix_box_area_follows_beta():
    # alpha=0.25 (CIFAR): Beta is U-shaped, so many tiny and many huge boxes.
    layer = CutMix(alpha=0.25, seed=0)
    x = _images((2, 32, 32, 1))
    areas = [float(_box_of(x, keras.ops.convert_to_numpy(layer(x))).mean()) for _ in range(60)]
    assert 0.1 < np.mean(areas) < 0.6
    assert max(areas) > 0.7 and min(areas) < 0.05


@pytest.mark.parametrize("pair", ["reverse", "permute"])
def test_mixup_blends_with_partner(pair):
    layer = MixUp(alpha=0.4, pair=pair, seed=2)
    x = _images((4, 8, 8, 3))
    for inp, out in _eager_and_mapped(layer, x):
        assert out.shape == inp.shape
        _check_range(out)
        if pair == "reverse":
            partner = inp[::-1]
            lam = (out - partner) / (inp - partner)
            np.testing.assert_allclose(lam, lam.flat[0], atol=1e-3)  # one lambda per batch


def test_mixup_video():
    x = _images((4, 2, 8, 8, 3))
    for inp, out in _eager_and_mapped(MixUp(alpha=1.0, seed=0), x):
        assert out.shape == inp.shape
        _check_range(out)


@pytest.mark.parametrize("mode,np_mode", [("constant", "constant"), ("reflect", "reflect")])
def test_random_pad_crop_windows_of_padded_input(mode, np_mode):
    layer = RandomPadCrop(padding=4, padding_mode=mode, seed=0)
    x = _images((8, 12, 12, 3))
    for inp, out in _eager_and_mapped(layer, x):
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
    out = RandomPadCrop(padding=2, size=10, seed=0)(_images((2, 12, 12, 1)))
    assert tuple(out.shape) == (2, 10, 10, 1)
    with pytest.raises(ValueError, match="cannot crop"):
        RandomPadCrop(padding=0, size=16)(_images((2, 12, 12, 1)))


def test_random_resized_crop():
    x = _images((4, 16, 16, 3))
    full = RandomResizedCrop(16, scale=(1.0, 1.0), ratio=(1.0, 1.0), seed=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(full(x)), x, atol=1e-5)
    for size in (8, 24):
        layer = RandomResizedCrop(size, seed=0)
        for inp, out in _eager_and_mapped(layer, x):
            assert out.shape == (4, size, size, 3)
            _check_range(out)


def test_color_jitter_and_solarize():
    x = _images((6, 8, 8, 3))
    for inp, out in _eager_and_mapped(ColorJitter(0, 0, 0, 0, seed=0), x):
        np.testing.assert_allclose(out, inp, atol=1e-6)
    for layer in (ColorJitter(0.4, 0.4, 0.4, 0.4, probability=0.8, seed=0), RandomSolarize(probability=0.5, seed=0)):
        for inp, out in _eager_and_mapped(layer, x):
            assert out.shape == inp.shape
            _check_range(out)
    grey = keras.ops.convert_to_numpy(ColorJitter(seed=0)(_images((2, 8, 8, 1))))
    assert grey.shape == (2, 8, 8, 1)
    sol = keras.ops.convert_to_numpy(RandomSolarize(0.5, probability=1.0)(np.array([[[[0.2, 0.5, 0.9]]]], "float32")))
    np.testing.assert_allclose(sol.ravel(), [0.2, 0.5, 0.1], atol=1e-6)


@pytest.mark.parametrize(
    "name,size,out_size", [("none", 32, 32), ("cifar", 32, 32), ("imagenet", 24, 24), ("imagenet", None, 224)]
)
def test_presets_shape_dtype_range(name, size, out_size):
    policy = build_policy(name, size, seed=0)
    x = _images((4, 32, 32, 3))
    pairs = _eager_and_mapped(policy, x)
    ds = apply_policy(tf.data.Dataset.from_tensor_slices(x).batch(2), policy)
    pairs += [(None, b.numpy()) for b in ds]
    for _, out in pairs:
        assert out.shape[1:] == (out_size, out_size, 3)
        _check_range(out)
    if name == "none":
        np.testing.assert_array_equal(pairs[0][1], x)


@pytest.mark.parametrize("name", ["cifar", "imagenet"])
def test_presets_vary_per_sample(name):
    # The same image 16 times: per-sample ops must give different outputs.
    x = np.repeat(_images((1, 32, 32, 3)), 16, axis=0)
    policy = build_policy(name, 32, seed=0, cutmix_alpha=0.0)
    for _, out in _eager_and_mapped(policy, x):
        distinct = {out[i].tobytes() for i in range(16)}
        assert len(distinct) >= 8


def test_cifar_flips_vary_per_sample():
    x = np.repeat(_images((1, 8, 8, 3)), 16, axis=0)
    out = keras.ops.convert_to_numpy(build_policy("cifar", 8, seed=0, padding=0, cutmix_alpha=0.0)(x))
    flipped = [bool(np.array_equal(o, x[0, :, ::-1])) for o in out]
    assert 0 < sum(flipped) < 16


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_seeded_determinism_and_config(name):
    x = _images((4, 32, 32, 3))
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
        CutMix(0.25, "permute", 0.5, seed=1),
        MixUp(0.3, seed=2),
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
        (lambda: CutMix(pair="shuffle"), "pair must be one of"),
        (lambda: CutMix(alpha=0), "alpha must be > 0"),
        (lambda: CutMix()(_images((8, 8, 3))), "batch"),
        (lambda: apply_policy(tf.data.Dataset.from_tensor_slices(_images((4, 8, 8, 3))), build_policy("none")), "batch"),
        (
            lambda: apply_policy(
                tf.data.Dataset.from_tensor_slices((_images((4, 8, 8, 3)), np.zeros(4, "int32"))).batch(2),
                build_policy("none"),
            ),
            "labels are never mixed",
        ),
    ]
    for fn, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            fn()
        assert "\n" not in str(info.value)


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


def test_package_exports():
    assert set(PRESETS) == {"none", "cifar", "imagenet"}
    assert augment.build_policy is build_policy
