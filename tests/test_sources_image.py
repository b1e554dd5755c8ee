"""Tests for aip_keras.sources.image: patch streams, epochs, banks and SingleImageSource."""
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from helpers import assert_one_line_error

from aip_keras.decode.image import load_image
from aip_keras.sources import (
    PatchChain,
    SingleImageSource,
    patch_bank,
    patch_bank_dataset,
    patches_per_epoch,
    sample_crop_boxes,
    single_image_dataset,
)

LUMA = np.array([0.2989, 0.587, 0.114], np.float32)


@pytest.fixture(scope="module")
def chelsea():
    return load_image("chelsea")  # 300 x 451


def _take(ds, n):
    return np.stack([x.numpy() for x in ds.take(n)])


def test_image_smaller_than_patch_raises(tmp_path):
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(ValueError) as excinfo:
        single_image_dataset(tmp_path / "tiny.png", patch_size=32)
    assert_one_line_error(excinfo, "tiny.png", "40x50", "20 px", "patch_size 32", "--patch_size")
    with pytest.raises(ValueError):
        patch_bank(tmp_path / "tiny.png", 4, patch_size=32)
    with pytest.raises(ValueError):
        SingleImageSource(tmp_path / "tiny.png", patch_size=32)
    with pytest.raises(ValueError):
        PatchChain(32)(np.zeros((40, 50, 3), np.uint8), seed=0)
    assert single_image_dataset(tmp_path / "tiny.png", patch_size=16) is not None


def test_crop_boxes_within_ranges(chelsea):
    n = 3000
    boxes = sample_crop_boxes(chelsea.shape, n, seed=0)
    area, aspect = boxes["area_fraction"], boxes["aspect"]
    assert area.shape == aspect.shape == (n,)
    assert area.min() >= 1 / 500 - 1e-7 and area.max() <= 1.0
    assert aspect.min() >= 3 / 4 - 1e-6 and aspect.max() <= 4 / 3 + 1e-6
    assert area.min() < 0.01 and area.max() > 0.95  # the whole range is used
    assert abs(np.median(np.log(aspect))) < 0.05  # log-uniform around 1
    side = 150  # 0.5 x the short side 300
    square, box = boxes["square"], boxes["box"]
    assert (square[:, 2] == side).all()
    assert (square[:, 0] >= 0).all() and (square[:, 0] + side <= 300).all()
    assert (square[:, 1] >= 0).all() and (square[:, 1] + side <= 451).all()
    y, x, h, w = box.T
    assert (y >= square[:, 0]).all() and (y + h <= square[:, 0] + side).all()
    assert (x >= square[:, 1]).all() and (x + w <= square[:, 1] + side).all()
    # Integer boxes round the sampled size by at most half a pixel per side.
    np.testing.assert_allclose(w, side * np.sqrt(area * aspect), atol=0.5 + 1e-3)
    np.testing.assert_allclose(h, side * np.sqrt(area / aspect), atol=0.5 + 1e-3)
    pixel_area = h * w / side**2
    assert pixel_area.min() >= (1 / 500) * 0.8 and pixel_area.max() <= 1.0
    assert ((h == side) & (w == side)).mean() < 0.01  # no whole-square fallback
    again = sample_crop_boxes(chelsea.shape, 50, seed=0)
    np.testing.assert_array_equal(again["box"], box[:50])
    assert not np.array_equal(sample_crop_boxes(chelsea.shape, 50, seed=1)["box"], box[:50])


def test_grey_is_luma_of_rgb(chelsea):
    rgb = _take(single_image_dataset(chelsea, patch_size=16, seed=2), 4)
    grey = _take(single_image_dataset(chelsea, patch_size=16, seed=2, channels=1), 4)
    assert grey.shape == (4, 16, 16, 1)
    np.testing.assert_allclose(grey[..., 0], rgb @ LUMA, atol=1e-5)


# ----------------------------------------------------------------- streams


def test_stream_shapes_and_determinism(chelsea):
    first = _take(single_image_dataset("chelsea", patch_size=32, batch_size=8, seed=0), 2)
    again = _take(single_image_dataset("chelsea", patch_size=32, batch_size=8, seed=0), 2)
    other = _take(single_image_dataset("chelsea", patch_size=32, batch_size=8, seed=1), 2)
    assert first.shape == (2, 8, 32, 32, 3) and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() <= 1.0
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert not np.allclose(first[0, 0], first[0, 1])  # patches differ within a batch
    single = _take(single_image_dataset(chelsea, patch_size=32, seed=0), 16)
    np.testing.assert_allclose(single, first.reshape(16, 32, 32, 3), atol=1e-6)  # batch-size free
    ds = single_image_dataset(chelsea, patch_size=32, batch_size=8)
    assert ds.cardinality() == tf.data.INFINITE_CARDINALITY
    assert ds.element_spec.shape == (8, 32, 32, 3)


def test_patches_per_epoch():
    assert patches_per_epoch(32) == 50_000
    assert patches_per_epoch(64) == 50_000
    assert patches_per_epoch(224) == 1_281_167
    assert patches_per_epoch(256) == 1_281_167
    with pytest.raises(ValueError):
        patches_per_epoch(0)


def test_finite_epochs_continue_the_stream(chelsea):
    ds = single_image_dataset(chelsea, patch_size=16, batch_size=4, seed=3, patches_per_epoch=10)
    epoch0, epoch1 = _take(ds, 100), _take(ds, 100)
    assert epoch0.shape == epoch1.shape == (3, 4, 16, 16, 3)  # ceil(10 / 4) whole batches
    assert ds.cardinality() == 3
    endless = _take(single_image_dataset(chelsea, patch_size=16, batch_size=4, seed=3), 6)
    np.testing.assert_allclose(np.concatenate([epoch0, epoch1]), endless, atol=1e-6)


def test_patch_bank_and_its_stream(chelsea):
    bank = patch_bank(chelsea, 10, patch_size=16, seed=4, batch_size=4)
    assert bank.shape == (10, 16, 16, 3) and bank.dtype == np.float32
    assert 0.0 <= bank.min() and bank.max() <= 1.0
    stream = _take(single_image_dataset(chelsea, patch_size=16, seed=4), 10)
    np.testing.assert_allclose(bank, stream, atol=1e-6)
    assert patch_bank(chelsea, 3, patch_size=16, seed=4, channels=1).shape == (3, 16, 16, 1)

    batches = _take(patch_bank_dataset(bank, batch_size=5, seed=0), 6)  # three passes
    assert batches.shape == (6, 5, 16, 16, 3)
    flat = batches.reshape(30, -1)
    rows = [int(np.flatnonzero((bank.reshape(10, -1) == r).all(1))[0]) for r in flat]
    for p in range(3):  # every pass reuses each bank patch exactly once
        assert sorted(rows[10 * p : 10 * p + 10]) == list(range(10))
    assert rows[:10] != rows[10:20]  # reshuffled each pass
    assert rows[:10] != list(range(10))
    np.testing.assert_array_equal(batches, _take(patch_bank_dataset(bank, batch_size=5, seed=0), 6))
    assert not np.array_equal(batches, _take(patch_bank_dataset(bank, batch_size=5, seed=1), 6))
    with pytest.raises(ValueError):
        patch_bank_dataset(bank[0], batch_size=5)


def test_single_image_source_config(chelsea):
    source = SingleImageSource("chelsea", patch_size=16, channels=1, rotation=20, vertical_flip=True)
    config = json.loads(json.dumps(source.get_config()))
    assert config["image"] == "chelsea" and config["rotation"] == [-20.0, 20.0]
    restored = SingleImageSource.from_config(config)
    assert restored.get_config() == source.get_config()
    a = _take(source.dataset(batch_size=4, seed=5), 1)
    np.testing.assert_array_equal(a, _take(restored.dataset(batch_size=4, seed=5), 1))
    direct = single_image_dataset("chelsea", 16, batch_size=4, seed=5, channels=1, rotation=20, vertical_flip=True)
    np.testing.assert_array_equal(a, _take(direct, 1))
    assert a.shape == (1, 4, 16, 16, 1)
    assert source.bank(6, seed=5).shape == (6, 16, 16, 1)
    assert source.patches_per_epoch() == 50_000

    from_array = SingleImageSource(chelsea, patch_size=16)
    assert from_array.get_config()["image"] is None  # arrays are not serialised
    with pytest.raises(ValueError) as excinfo:
        SingleImageSource.from_config(from_array.get_config())
    assert_one_line_error(excinfo, "image=")
    assert SingleImageSource.from_config(from_array.get_config(), image=chelsea).patch_size == 16
