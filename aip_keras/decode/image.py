"""Image decoding: a file, a PIL image, an array or a bundled photo name -> one uint8 RGB array.

`load_image` is what every image source starts from (`aip_keras.sources.image`,
`aip_keras.sources.video`). The bundled photos load offline: `"china"` from
scikit-learn's sample images, `"noise"` (uniform noise, seeded) made here, the
others from scikit-image's `skimage.data`.
"""

import os
import pathlib

import numpy as np
from PIL import Image, ImageOps

from aip_keras.utils import one_line

PHOTOS = (
    "hubble_deep_field",
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "china",
    "noise",
)
"""Bundled photo names accepted by `load_image` (all load offline)."""

NOISE_SHAPE = (512, 512, 3)
"""Shape of the uniform-noise control image `"noise"`."""



def load_image(image, seed=0):
    """Loads one image as a uint8 `(H, W, 3)` RGB array.

    Accepts a file path (`str` or `pathlib.Path`, decoded with PIL), a PIL
    image, an array, or a name from `PHOTOS`. Conversions:

    - RGBA / grey+alpha / palette with transparency: alpha-composited on
      **white** (not dropped: the colour under transparent pixels is often
      garbage);
    - 16-bit (uint16 arrays, grey files in PIL modes `I;16*` and `I`):
      scaled to 8 bits (`round(v * 255 / 65535)`); PIL itself reduces
      16-bit RGB(A) files to 8 bits (high byte) when decoding them;
    - grey (2-D, `(H, W, 1)`, bool, PIL `1`/`L`): repeated to 3 channels;
    - float arrays in [0, 1]: `round(v * 255)`; other integer arrays must
      hold values in 0..255;
    - files: EXIF orientation is applied and the first frame is used.

    Truncated files raise (PIL's `LOAD_TRUNCATED_IMAGES` is left off).

    Args:
        image: path, PIL image, array or photo name (see `PHOTOS`).
        seed: seed of the `"noise"` control image (ignored otherwise).

    Returns:
        A C-contiguous uint8 array of shape `(H, W, 3)`.

    Raises:
        ValueError: a one-line message naming the problem and the fix.

    Example:

    >>> load_image("astronaut").shape
    (512, 512, 3)
    >>> load_image(np.zeros((4, 5), "float32")).dtype
    dtype('uint8')
    """
    if isinstance(image, (str, os.PathLike)):
        text = os.fspath(image)
        if isinstance(image, str) and image in PHOTOS and not os.path.exists(image):
            return _photo(image, seed)
        return _read_file(text)
    if isinstance(image, Image.Image):
        return _from_pil(image, "PIL image")
    if image is None:
        raise ValueError(
            "image is None: pass an image file path, an array or one of " + ", ".join(PHOTOS)
        )
    return _from_array(image, "image array")


def _photo(name, seed):
    if name == "noise":
        rng = np.random.default_rng(int(seed))
        return rng.integers(0, 256, size=NOISE_SHAPE, dtype=np.uint8)
    if name == "china":
        from sklearn.datasets import load_sample_image

        return _from_array(load_sample_image("china.jpg"), "photo 'china'")
    import skimage.data

    return _from_array(getattr(skimage.data, name)(), f"photo {name!r}")


def _read_file(path):
    p = pathlib.Path(path)
    if not p.exists():
        looks_like_name = p.suffix == "" and os.sep not in path and "/" not in path
        if looks_like_name:
            raise ValueError(
                f"unknown photo name {path!r} (and no such file): use one of "
                f"{', '.join(PHOTOS)}, or pass an existing image file path"
            )
        raise ValueError(
            f"image file {path!r} does not exist: check the path "
            f"(or use a bundled photo: {', '.join(PHOTOS)})"
        )
    if p.is_dir():
        raise ValueError(f"image path {path!r} is a directory: pass an image file inside it")
    if p.stat().st_size == 0:
        raise ValueError(f"image file {path!r} is empty (0 bytes): pass a valid image file")
    try:
        with Image.open(p) as im:
            im.load()  # decodes everything: truncated / corrupt data raise here
            im = ImageOps.exif_transpose(im)
            im.load()
    except Image.UnidentifiedImageError:
        raise ValueError(
            f"image file {path!r} is not a readable image (PIL cannot identify it): "
            "pass a PNG, JPEG, BMP, TIFF or other PIL-readable image"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        raise ValueError(
            f"image file {path!r} is corrupt or truncated ({type(e).__name__}: "
            f"{one_line(e)}): re-export or re-download the complete file"
        ) from e
    return _from_pil(im, f"image file {path!r}")


def _from_pil(im, what):
    mode = im.mode
    if mode.startswith("I;16"):
        return _from_array(np.asarray(im).astype(np.uint16), what)
    if mode == "I":
        a = np.asarray(im)
        if a.size and (a.min() < 0 or a.max() > 65535):
            raise ValueError(
                f"{what} is 32-bit integer with values in [{a.min()}, {a.max()}]: "
                "convert it to an 8- or 16-bit image"
            )
        return _from_array(a.astype(np.uint16), what)
    if mode == "F":
        return _from_array(np.asarray(im, np.float32), what)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        return _from_array(np.asarray(im.convert("RGBA")), what)
    if mode in ("1", "L"):
        return _from_array(np.asarray(im.convert("L")), what)
    return _from_array(np.asarray(im.convert("RGB")), what)


def _from_array(a, what):
    try:
        a = np.asarray(a)
    except Exception as e:  # noqa: BLE001 - anything np.asarray rejects
        raise ValueError(
            f"{what} cannot be converted to an array ({type(e).__name__}): "
            "pass a numpy array, a file path or a photo name"
        ) from e
    if a.size == 0:
        raise ValueError(f"{what} is empty (shape {a.shape}): pass an image with at least one pixel")
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            f"{what} has shape {a.shape}, expected (H, W), (H, W, 1), (H, W, 3) or "
            "(H, W, 4): pass one channels-last image (transpose channels-first arrays)"
        )
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint8:
        pass
    elif a.dtype == np.uint16:
        a = ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{what} contains NaN or inf: pass finite values in [0, 1]")
        lo, hi = float(a.min()), float(a.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"float {what} has values in [{lo:g}, {hi:g}], expected [0, 1]: "
                "divide by 255 (or clip) first, or pass uint8 data"
            )
        a = np.round(a.astype(np.float64) * 255.0).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.integer):
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise ValueError(
                f"{what} of dtype {a.dtype} has values in [{lo}, {hi}], expected 0..255: "
                "cast 8-bit data to uint8 or 16-bit data to uint16"
            )
        a = a.astype(np.uint8)
    else:
        raise ValueError(
            f"{what} has dtype {a.dtype}: pass uint8, uint16, bool or float in [0, 1]"
        )
    channels = a.shape[-1]
    if channels in (2, 4):  # grey+alpha / RGBA: composite on white
        alpha = a[..., -1:].astype(np.float32) / 255.0
        colour = a[..., :-1].astype(np.float32)
        a = np.round(colour * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        channels -= 1
    if channels == 1:
        a = np.repeat(a, 3, axis=-1)
    return np.ascontiguousarray(a)


def describe_image(image):
    """A short name of an image argument for error messages: its path, or "image array"."""
    if isinstance(image, (str, os.PathLike)):
        return os.fspath(image)
    return "image array"
