"""Tests for aip_keras.augment.cutmix: CutMix and MixUp, eagerly and inside tf.data.Dataset.map."""
import numpy as np
import pytest

import keras
from helpers import assert_unit_range, input_output_pairs, random_images

from aip_keras import augment
from aip_keras.augment import CutMix, MixUp


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
    x = random_images((6, 16, 16, 3))
    nonempty = 0
    for _ in range(4):
        for inp, out in input_output_pairs(layer, x):
            assert out.shape == inp.shape
            assert_unit_range(out)
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
    x = random_images((4, 3, 12, 12, 3))
    seen = 0
    for _ in range(3):
        for inp, out in input_output_pairs(layer, x):
            assert out.shape == (4, 3, 12, 12, 3)
            assert_unit_range(out)
            box = _box_of(inp, out)  # one H x W box for every sample and frame
            seen += int(box.any())
            np.testing.assert_array_equal(out[:, :, box], inp[::-1][:, :, box])
    assert seen >= 3


def test_cutmix_probability_zero_and_inference_are_identity():
    x = random_images((4, 8, 8, 3))
    for inp, out in input_output_pairs(CutMix(alpha=1.0, probability=0.0, seed=0), x):
        np.testing.assert_array_equal(out, inp)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(CutMix(seed=0)(x, training=False)), x)


def test_cutmix_box_area_follows_beta():
    # alpha=0.25 (CIFAR): Beta is U-shaped, so many tiny and many huge boxes.
    layer = CutMix(alpha=0.25, seed=0)
    x = random_images((2, 32, 32, 1))
    areas = [float(_box_of(x, keras.ops.convert_to_numpy(layer(x))).mean()) for _ in range(60)]
    assert 0.1 < np.mean(areas) < 0.6
    assert max(areas) > 0.7 and min(areas) < 0.05


@pytest.mark.parametrize("pair", ["reverse", "permute"])
def test_mixup_blends_with_partner(pair):
    layer = MixUp(alpha=0.4, pair=pair, seed=2)
    x = random_images((4, 8, 8, 3))
    for inp, out in input_output_pairs(layer, x):
        assert out.shape == inp.shape
        assert_unit_range(out)
        if pair == "reverse":
            partner = inp[::-1]
            lam = (out - partner) / (inp - partner)
            np.testing.assert_allclose(lam, lam.flat[0], atol=1e-3)  # one lambda per batch


def test_mixup_video():
    x = random_images((4, 2, 8, 8, 3))
    for inp, out in input_output_pairs(MixUp(alpha=1.0, seed=0), x):
        assert out.shape == inp.shape
        assert_unit_range(out)


def test_layer_configs_round_trip():
    for layer in (
        CutMix(0.25, "permute", 0.5, seed=1),
        MixUp(0.3, seed=2),
    ):
        clone = keras.layers.deserialize(keras.layers.serialize(layer))
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


def test_errors_are_one_line():
    cases = [
        (lambda: CutMix(pair="shuffle"), "pair must be one of"),
        (lambda: CutMix(alpha=0), "alpha must be > 0"),
        (lambda: CutMix()(random_images((8, 8, 3))), "batch"),
    ]
    for fn, match in cases:
        with pytest.raises(ValueError, match=match) as info:
            fn()
        assert "\n" not in str(info.value)


def test_cutmix_box_is_identical_across_frames():
    clips = np.random.default_rng(1).random((4, 6, 16, 16, 3)).astype("float32")
    layer = augment.CutMix(alpha=1.0, pair="reverse", seed=0)
    mask = layer.box_mask(clips).numpy()
    assert mask.shape == (1, 1, 16, 16, 1)  # one H x W box, broadcast over batch and time
    out = layer(clips).numpy()
    changed = np.any(out != clips, axis=-1)  # (B, T, H, W)
    for t in range(6):
        np.testing.assert_array_equal(changed[:, t], changed[:, 0])
