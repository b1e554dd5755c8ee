"""Tests for aip_keras.plots: save_image_grid writes a PNG grid of the expected size, atomically."""
import numpy as np
import pytest
from PIL import Image

from aip_keras.plots import save_image_grid


def _images(n, channels=3, size=8):
    return np.random.default_rng(0).random((n, size, size, channels), dtype=np.float32)


@pytest.mark.parametrize("n, columns, title, expected", [
    (16, None, None, (440, 440)),  # 4 x 4 cells of 1.1 in at 100 dpi
    (5, None, None, (330, 220)),  # 3 columns, 2 rows
    (5, 5, None, (550, 110)),
    (6, 2, "patches", (220, 370)),  # 3 rows, plus 0.4 in for the title
])
def test_png_with_the_grid_size(tmp_path, n, columns, title, expected):
    path = tmp_path / "grid.png"
    save_image_grid(_images(n), path, title=title, columns=columns)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == expected


def test_grey_images_and_out_of_range_values(tmp_path):
    path = tmp_path / "new" / "folder" / "grey.png"  # folders are made
    save_image_grid(_images(4, channels=1) * 3 - 1, path)  # clipped to [0, 1], not refused
    with Image.open(path) as image:
        assert image.size == (220, 220)
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.min() == 0 and pixels.max() == 255  # values below 0 are drawn black, not refused
    assert sorted(p.name for p in path.parent.iterdir()) == ["grey.png"]  # no temporary file left


@pytest.mark.parametrize("shape", [(8, 8, 3), (2, 8, 8, 2), (2, 8, 8, 4)])
def test_bad_shapes_are_one_line_errors(tmp_path, shape):
    with pytest.raises(ValueError, match="image grid needs") as excinfo:
        save_image_grid(np.zeros(shape, "float32"), tmp_path / "x.png")
    assert "\n" not in str(excinfo.value)
    assert not (tmp_path / "x.png").exists()
