"""Tests for aip_keras.decode.image: photos, arrays, PIL images and files -> one uint8 RGB array."""
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile
from helpers import assert_one_line_error

from aip_keras.decode.image import NOISE_SHAPE, PHOTOS, describe_image, load_image


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
    assert_one_line_error(excinfo, fragment)


def test_unknown_name_and_missing_file(tmp_path):
    with pytest.raises(ValueError) as excinfo:
        load_image("hubble")
    assert_one_line_error(excinfo, "'hubble'", "hubble_deep_field", "noise")
    missing = tmp_path / "nope.png"
    with pytest.raises(ValueError) as excinfo:
        load_image(missing)
    assert_one_line_error(excinfo, "nope.png", "does not exist")
    with pytest.raises(ValueError) as excinfo:
        load_image(tmp_path)
    assert_one_line_error(excinfo, "directory")
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
    assert_one_line_error(excinfo, "notes.png", "not a readable image")

    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ValueError) as excinfo:
        load_image(tmp_path / "empty.jpg")
    assert_one_line_error(excinfo, "empty.jpg", "empty")

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
        assert_one_line_error(excinfo, f"cut.{suffix}", "truncated")
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


def test_pil_images_and_descriptions(tmp_path):
    rgb = (np.arange(4 * 5 * 3) % 256).astype(np.uint8).reshape(4, 5, 3)
    np.testing.assert_array_equal(load_image(Image.fromarray(rgb)), rgb)
    np.testing.assert_array_equal(load_image(Image.fromarray(rgb[..., 0], "L")), np.repeat(rgb[..., :1], 3, -1))
    assert describe_image(tmp_path / "a.png") == str(tmp_path / "a.png")
    assert describe_image("astronaut") == "astronaut" and describe_image(rgb) == "image array"
