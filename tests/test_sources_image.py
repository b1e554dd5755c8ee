"""Tests for aip_keras.sources.image: loading, the patch chain, streams, banks."""
import json
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageFile

from aip_keras.sources import (
    PHOTOS,
    PatchChain,
    SingleImageSource,
    load_image,
    patch_bank,
    patch_bank_dataset,
    patch_chain,
    patches_per_epoch,
    sample_crop_boxes,
    single_image_dataset,
)
from aip_keras.sources.image import NOISE_SHAPE

LUMA = np.array([0.2989, 0.587, 0.114], np.float32)


@pytest.fixture(scope="module")
def chelsea():
    return load_image("chelsea")  # 300 x 451


def _take(ds, n):
    return np.stack([x.numpy() for x in ds.take(n)])


def _assert_one_line_error(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message
    assert ": " in message  # "<what is wrong>: <how to fix it>"
    for fragment in fragments:
        assert fragment in message, message


def _write_png16(path, array):
    """A 16-bit PNG (PIL cannot write 16-bit RGB itself)."""
    h, w, c = array.shape
    raw = b"".join(b"\x00" + array[r].astype(">u2").tobytes() for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    colour_type = {1: 0, 3: 2, 4: 6}[c]
    header = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


# ----------------------------------------------------------------- loading


@pytest.mark.parametrize("name", PHOTOS)
def test_bundled_photos_load(name):
    image = load_image(name)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[-1] == 3
    assert min(image.shape[:2]) >= 256
    assert image.std() > 10  # a real picture, not a constant


def test_noise_is_uniform_and_seeded():
    a, b, c = load_image("noise", seed=0), load_image("noise", seed=0), load_image("noise", seed=1)
    assert a.shape == NOISE_SHAPE and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert abs(a.mean() - 127.5) < 1.0 and a.min() == 0 and a.max() == 255


def test_array_conversions():
    grey = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    out = load_image(grey)
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], np.round(grey * 255).astype(np.uint8))
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    np.testing.assert_array_equal(load_image(grey[..., None]), out)
    assert load_image(np.ones((2, 2), bool)).min() == 255
    u16 = np.array([[0, 257, 65535]], np.uint16)
    np.testing.assert_array_equal(load_image(u16)[0, :, 0], [0, 1, 255])
    np.testing.assert_array_equal(load_image(np.full((2, 2, 3), 7, np.int64)), np.full((2, 2, 3), 7, np.uint8))
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, :, 0] = 200  # red 200 under alpha 0, 255, 128
    rgba[0, :, 3] = [0, 255, 128]
    out = load_image(rgba)
    np.testing.assert_array_equal(out[0, 0], [255, 255, 255])  # transparent -> white
    np.testing.assert_array_equal(out[0, 1], [200, 0, 0])
    np.testing.assert_array_equal(out[0, 2], [227, 127, 127])  # 200 a + 255 (1 - a), a = 128/255


@pytest.mark.parametrize(
    "array, fragment",
    [
        (np.zeros((0, 5, 3), np.uint8), "empty"),
        (np.zeros((2, 4, 4, 3), np.uint8), "shape"),
        (np.zeros((3, 32, 32), np.uint8), "channels-last"),
        (np.full((4, 4, 3), 2.0, np.float32), "[0, 1]"),
        (np.full((4, 4, 3), -0.1, np.float64), "[0, 1]"),
        (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
        (np.full((4, 4, 3), 300, np.int32), "0..255"),
        (np.zeros((4, 4, 3), np.complex64), "dtype"),
    ],
)
def test_bad_arrays_raise(array, fragment):
    with pytest.raises(ValueError) as excinfo:
        load_image(array)
    _assert_one_line_error(excinfo, fragment)


def test_unknown_name_and_missing_file(tmp_path):
    with pytest.raises(ValueError) as excinfo:
        load_image("hubble")
    _assert_one_line_error(excinfo, "'hubble'", "hubble_deep_field", "noise")
    missing = tmp_path / "nope.png"
    with pytest.raises(ValueError) as excinfo:
        load_image(missing)
    _assert_one_line_error(excinfo, "nope.png", "does not exist")
    with pytest.raises(ValueError) as excinfo:
        load_image(tmp_path)
    _assert_one_line_error(excinfo, "directory")
    with pytest.raises(ValueError):
        load_image(None)


def test_good_files(tmp_path):
    rgb = (np.arange(6 * 7 * 3) % 256).astype(np.uint8).reshape(6, 7, 3)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(load_image(tmp_path / "rgb.png"), rgb)
    np.testing.assert_array_equal(load_image(str(tmp_path / "rgb.png")), rgb)

    Image.fromarray(rgb[..., 0]).save(tmp_path / "grey.png")
    grey = load_image(tmp_path / "grey.png")
    assert grey.shape == (6, 7, 3)
    np.testing.assert_array_equal(grey, np.repeat(rgb[..., :1], 3, -1))

    rgba = np.dstack([rgb, np.zeros((6, 7), np.uint8)])
    rgba[0, 0, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    out = load_image(tmp_path / "rgba.png")
    assert out.shape == (6, 7, 3)
    np.testing.assert_array_equal(out[0, 0], rgb[0, 0])
    assert (out.reshape(-1, 3)[1:] == 255).all()  # transparent -> white

    grey16 = np.array([[0, 257, 65535, 32896]], np.uint16)
    Image.fromarray(grey16).save(tmp_path / "grey16.png")
    np.testing.assert_array_equal(load_image(tmp_path / "grey16.png")[0, :, 0], [0, 1, 255, 128])

    rgb16 = np.zeros((2, 3, 3), np.uint16)
    rgb16[..., 0], rgb16[..., 1] = 65535, 257 * 100
    _write_png16(tmp_path / "rgb16.png", rgb16)
    out = load_image(tmp_path / "rgb16.png")
    assert out.dtype == np.uint8 and out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[0, 0], [255, 100, 0])


def test_bad_files_raise(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    with pytest.raises(ValueError) as excinfo:
        load_image(text)
    _assert_one_line_error(excinfo, "notes.png", "not a readable image")

    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ValueError) as excinfo:
        load_image(tmp_path / "empty.jpg")
    _assert_one_line_error(excinfo, "empty.jpg", "empty")

    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for suffix in ("png", "jpg"):
        full = tmp_path / f"full.{suffix}"
        Image.fromarray(noise).save(full)
        cut = tmp_path / f"cut.{suffix}"
        data = full.read_bytes()
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(ValueError) as excinfo:
            load_image(cut)
        _assert_one_line_error(excinfo, f"cut.{suffix}", "truncated")
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


def test_image_smaller_than_patch_raises(tmp_path):
    Image.fromarray(np.zeros((40, 50, 3), np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(ValueError) as excinfo:
        single_image_dataset(tmp_path / "tiny.png", patch_size=32)
    _assert_one_line_error(excinfo, "tiny.png", "40x50", "20 px", "patch_size 32", "--patch_size")
    with pytest.raises(ValueError):
        patch_bank(tmp_path / "tiny.png", 4, patch_size=32)
    with pytest.raises(ValueError):
        SingleImageSource(tmp_path / "tiny.png", patch_size=32)
    with pytest.raises(ValueError):
        PatchChain(32)(np.zeros((40, 50, 3), np.uint8), seed=0)
    assert single_image_dataset(tmp_path / "tiny.png", patch_size=16) is not None


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


# ----------------------------------------------------------------- the chain


@pytest.mark.parametrize("channels", [3, 1])
def test_chain_eager_and_in_dataset_map(chelsea, channels):
    chain = PatchChain(24, channels=channels)
    eager = np.stack([chain(chelsea, tf.constant([i, 7], tf.int64)).numpy() for i in range(4)])
    image = tf.constant(chelsea)
    mapped = _take(tf.data.Dataset.range(4).map(lambda i: chain(image, tf.stack([i, 7]))), 4)
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
    _assert_one_line_error(excinfo, "image=")
    assert SingleImageSource.from_config(from_array.get_config(), image=chelsea).patch_size == 16
