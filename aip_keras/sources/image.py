"""One image -> an endless, seeded stream of heavily augmented patches.

This is the 2020 "single image" patch generator that the Augmented Image Prior
distils from (Asano & Saeed, ICLR 2023; Asano, Rupprecht & Vedaldi, ICLR 2020).
Each patch of side `S` is made by, in order:

1. a random square crop of side `initial_crop` (0.5) x the image's short side;
2. a random-resized crop of that square: area fraction U(`min_area`=1/500,
   `max_area`=1), aspect ratio (width / height) log-uniform in [3/4, 4/3],
   integer pixel box; if a sampled box does not fit, up to `attempts` (10)
   samples are drawn and the first that fits is kept, and if none fits the last
   one is clipped to the square. There is **no** centre-crop / whole-image
   fallback. The box is resized **bicubic with antialiasing** (like PIL, which
   torchvision used) to `ceil(sqrt(2) * S)` and clipped to [0, 1];
3. a rotation U(-30, 30) deg (positive = counter-clockwise, as torchvision)
   and an x-shear U(-30, 30) deg about the centre, as one affine transform (`ImageProjectiveTransformV3`, **bilinear**), with
   **reflect** fill by default (torchvision filled black; the sqrt(2) margin
   keeps most corners inside, reflection avoids black triangles in the rest);
4. a centre crop of `S` (fused into the affine transform: only S x S pixels
   are computed);
5. colour jitter with probability 0.5: brightness 0.4, contrast 0.4,
   saturation 0.4, hue 0.1, torchvision semantics (multiplicative brightness,
   contrast towards the mean grey, saturation towards grey, hue shift), applied
   in the fixed order brightness, contrast, saturation, hue (torchvision draws
   a random order per image; the fixed order keeps the batch vectorised);
6. an optional vertical flip with probability 0.5 (off by default);
7. `channels=1`: luma (0.2989 R + 0.587 G + 0.114 B) for grey teachers.

Output is float32, channels-last, in [0, 1]. All randomness is stateless:
patch `i` of a stream with seed `s` depends only on `(s, i)`, so streams are
identical across runs, batch sizes and parallel map settings.
"""

import math
import os
import pathlib

import numpy as np
import tensorflow as tf

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

_SKIMAGE_PHOTOS = ("hubble_deep_field", "astronaut", "chelsea", "coffee", "rocket")
_CIFAR_EPOCH = 50_000
_IMAGENET_EPOCH = 1_281_167
_GREY = (0.2989, 0.587, 0.114)  # torchvision / tf.image luma weights
_FILL_MODES = ("reflect", "nearest", "constant", "wrap")


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


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
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
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


def _one_line(text):
    return " ".join(str(text).split())


def _read_file(path):
    from PIL import Image, ImageOps

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
            f"{_one_line(e)}): re-export or re-download the complete file"
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


def _describe(image):
    """A short name of an image argument for error messages and configs."""
    if isinstance(image, (str, os.PathLike)):
        return os.fspath(image)
    return "image array"


# --------------------------------------------------------------------------
# Epoch sizes
# --------------------------------------------------------------------------


def patches_per_epoch(patch_size):
    """Patches in one "epoch" of a single-image stream, by patch side.

    The rule follows the paper's two settings: below 224 pixels an epoch is
    CIFAR-sized (50,000 patches); at 224 and above it is ImageNet-sized
    (1,281,167 patches).

    Example:

    >>> patches_per_epoch(32), patches_per_epoch(224)
    (50000, 1281167)
    """
    patch_size = int(patch_size)
    if patch_size < 1:
        raise ValueError(f"patch_size must be a positive int, got {patch_size}: pass e.g. 32")
    return _IMAGENET_EPOCH if patch_size >= 224 else _CIFAR_EPOCH


_epoch_rule = patches_per_epoch  # shadowed by arguments of the same name below


# --------------------------------------------------------------------------
# The chain
# --------------------------------------------------------------------------


def _pm(value, what):
    """`30` -> (-30, 30); `(lo, hi)` kept."""
    if isinstance(value, (tuple, list)):
        lo, hi = (float(v) for v in value)
    else:
        lo, hi = -abs(float(value)), abs(float(value))
    if lo > hi:
        raise ValueError(f"{what} range ({lo}, {hi}) has low > high: pass (low, high) or one number")
    return lo, hi


def _seed_tensor(seed):
    """An int or a shape-[2] seed -> int64 shape-[2] stateless seed."""
    if isinstance(seed, (int, np.integer)):
        return tf.constant([int(seed), 0x41495020], tf.int64)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank == 0:
        return tf.stack([tf.cast(seed, tf.int64), tf.constant(0x41495020, tf.int64)])
    return tf.cast(seed, tf.int64)


def _element_seed(seed, index):
    """The stateless seed of patch `index` of the stream with int `seed`."""
    return tf.random.experimental.stateless_fold_in(_seed_tensor(int(seed)), tf.cast(index, tf.int64))


class PatchChain:
    """The 2020 single-image patch generator, in TensorFlow ops.

    Runs eagerly or inside `tf.data.Dataset.map`. Each patch is a pure
    function of the image and a stateless seed. See the module docstring for
    the steps; every range is an argument here.

    Args:
        patch_size: output side `S` in pixels.
        channels: 3 for RGB output, 1 for grey (luma) output.
        initial_crop: side of the first square crop, as a fraction of the
            image's short side.
        min_area: smallest area fraction of the random-resized crop.
        max_area: largest area fraction of the random-resized crop.
        min_aspect: smallest aspect ratio (width / height), log-uniform.
        max_aspect: largest aspect ratio.
        attempts: samples tried for a box that fits (then clipped, never the
            whole image).
        expand: the random-resized crop is resized to `ceil(expand * S)`
            before rotation (sqrt(2) keeps a 45-degree rotation inside).
        rotation: degrees, `r` for U(-r, r) or a `(low, high)` pair.
        shear: x-shear degrees, `s` for U(-s, s) or a `(low, high)` pair.
        brightness: jitter strength (factor U(1 - b, 1 + b)).
        contrast: jitter strength (factor U(1 - c, 1 + c)).
        saturation: jitter strength (factor U(1 - s, 1 + s)).
        hue: hue shift U(-h, h) in turns (h <= 0.5).
        jitter_p: probability of colour jitter per patch.
        vertical_flip: flip upside down with probability 0.5.
        fill_mode: outside the image after rotation/shear: `"reflect"`
            (default), `"nearest"`, `"constant"` (black) or `"wrap"`.
        antialias: antialias the bicubic resize when it shrinks (as PIL).

    Example:

    >>> chain = PatchChain(patch_size=16)
    >>> image = load_image("astronaut")
    >>> chain(image, seed=0).shape
    TensorShape([16, 16, 3])
    """

    def __init__(
        self,
        patch_size=32,
        *,
        channels=3,
        initial_crop=0.5,
        min_area=1 / 500,
        max_area=1.0,
        min_aspect=3 / 4,
        max_aspect=4 / 3,
        attempts=10,
        expand=math.sqrt(2),
        rotation=30.0,
        shear=30.0,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        jitter_p=0.5,
        vertical_flip=False,
        fill_mode="reflect",
        antialias=True,
    ):
        if isinstance(patch_size, bool) or int(patch_size) != patch_size or int(patch_size) < 1:
            raise ValueError(f"patch_size must be a positive int, got {patch_size!r}: pass e.g. 32")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels!r}: use 1 for grey teachers, 3 for RGB")
        if not 0.0 < initial_crop <= 1.0:
            raise ValueError(f"initial_crop must be in (0, 1], got {initial_crop}: pass e.g. 0.5")
        if not 0.0 < min_area <= max_area <= 1.0:
            raise ValueError(
                f"area range ({min_area}, {max_area}) is invalid: need 0 < min_area <= max_area <= 1"
            )
        if not 0.0 < min_aspect <= max_aspect:
            raise ValueError(
                f"aspect range ({min_aspect}, {max_aspect}) is invalid: need 0 < min_aspect <= max_aspect"
            )
        if int(attempts) < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts}: pass e.g. 10")
        if expand < 1.0:
            raise ValueError(f"expand must be >= 1, got {expand}: pass e.g. sqrt(2)")
        for name, v in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation)):
            if v < 0:
                raise ValueError(f"{name} must be >= 0, got {v}: pass e.g. 0.4 (0 turns it off)")
        if not 0.0 <= hue <= 0.5:
            raise ValueError(f"hue must be in [0, 0.5], got {hue}: pass e.g. 0.1")
        if not 0.0 <= jitter_p <= 1.0:
            raise ValueError(f"jitter_p must be a probability in [0, 1], got {jitter_p}")
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"fill_mode {fill_mode!r} is unknown: use one of {', '.join(_FILL_MODES)}")
        self.patch_size = int(patch_size)
        self.channels = int(channels)
        self.initial_crop = float(initial_crop)
        self.min_area = float(min_area)
        self.max_area = float(max_area)
        self.min_aspect = float(min_aspect)
        self.max_aspect = float(max_aspect)
        self.attempts = int(attempts)
        self.expand = float(expand)
        self.rotation = _pm(rotation, "rotation")
        self.shear = _pm(shear, "shear")
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.saturation = float(saturation)
        self.hue = float(hue)
        self.jitter_p = float(jitter_p)
        self.vertical_flip = bool(vertical_flip)
        self.fill_mode = fill_mode
        self.antialias = bool(antialias)

    # ----------------------------------------------------------- settings
    @property
    def resize_size(self):
        """Side of the random-resized crop before rotation: ceil(expand * S)."""
        return int(math.ceil(self.expand * self.patch_size - 1e-9))

    def get_config(self):
        """The constructor arguments as a JSON-friendly dict."""
        return {
            "patch_size": self.patch_size,
            "channels": self.channels,
            "initial_crop": self.initial_crop,
            "min_area": self.min_area,
            "max_area": self.max_area,
            "min_aspect": self.min_aspect,
            "max_aspect": self.max_aspect,
            "attempts": self.attempts,
            "expand": self.expand,
            "rotation": list(self.rotation),
            "shear": list(self.shear),
            "brightness": self.brightness,
            "contrast": self.contrast,
            "saturation": self.saturation,
            "hue": self.hue,
            "jitter_p": self.jitter_p,
            "vertical_flip": self.vertical_flip,
            "fill_mode": self.fill_mode,
            "antialias": self.antialias,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def square_side(self, image_shape):
        """Side of the first square crop for an image of this shape."""
        return int(math.floor(self.initial_crop * min(int(image_shape[0]), int(image_shape[1])) + 1e-9))

    def check_image_size(self, image_shape, name="image"):
        """Raises ValueError if the image is too small for this patch size."""
        h, w = int(image_shape[0]), int(image_shape[1])
        side = self.square_side(image_shape)
        if side < self.patch_size:
            raise ValueError(
                f"{name} is {h}x{w}: its short side {min(h, w)} x initial_crop "
                f"{self.initial_crop:g} = {side} px is smaller than patch_size "
                f"{self.patch_size}: use a larger image or a smaller --patch_size"
            )

    # ----------------------------------------------------------- sampling
    def sample_params(self, image_shape, seed):
        """Draws one patch's random parameters from a stateless seed.

        Args:
            image_shape: `(H, W, ...)` of the source image (ints or tensor).
            seed: int or shape-[2] int tensor.

        Returns:
            A dict of scalar tensors (`box` and `square` are vectors):
            `square` (y, x, side) of the first crop, `box` (y, x, h, w) of
            the random-resized crop in image pixels, `area_fraction` and
            `aspect` (the sampled continuous values of the chosen attempt),
            `angle`, `shear` (degrees), `jitter` (bool), `brightness`,
            `contrast`, `saturation`, `hue` (factors / shift), `flip` (bool).
        """
        seed = _seed_tensor(seed)
        seed_a, seed_b = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        u = tf.random.stateless_uniform([12], seed_a, dtype=tf.float32)
        att = tf.random.stateless_uniform([2, self.attempts], seed_b, dtype=tf.float64)

        shape = tf.cast(tf.convert_to_tensor(image_shape)[:2], tf.int32)
        height, width = shape[0], shape[1]
        side = tf.cast(
            tf.floor(self.initial_crop * tf.cast(tf.minimum(height, width), tf.float64) + 1e-9), tf.int32
        )
        side = tf.maximum(side, 1)

        def randint(v, n):  # uniform int in [0, n)
            return tf.minimum(tf.cast(tf.floor(v * tf.cast(n, tf.float32)), tf.int32), n - 1)

        sq_y = randint(u[0], height - side + 1)
        sq_x = randint(u[1], width - side + 1)

        # Random-resized crop inside the square, torchvision-style attempts.
        side_f = tf.cast(side, tf.float64)
        area = self.min_area + (self.max_area - self.min_area) * att[0]
        log_lo, log_hi = math.log(self.min_aspect), math.log(self.max_aspect)
        aspect = tf.exp(log_lo + (log_hi - log_lo) * att[1])
        w = tf.cast(tf.round(side_f * tf.sqrt(area * aspect)), tf.int32)
        h = tf.cast(tf.round(side_f * tf.sqrt(area / aspect)), tf.int32)
        fits = (w >= 1) & (h >= 1) & (w <= side) & (h <= side)
        # First attempt that fits; the last attempt (clipped) if none does.
        first = tf.argmax(tf.cast(fits, tf.int32), output_type=tf.int32)
        pick = tf.where(tf.reduce_any(fits), first, self.attempts - 1)
        w = tf.clip_by_value(w[pick], 1, side)
        h = tf.clip_by_value(h[pick], 1, side)
        box_y = sq_y + randint(u[2], side - h + 1)
        box_x = sq_x + randint(u[3], side - w + 1)

        def between(v, lo, hi):
            return lo + (hi - lo) * v

        return {
            "square": tf.stack([sq_y, sq_x, side]),
            "box": tf.stack([box_y, box_x, h, w]),
            "area_fraction": tf.cast(area[pick], tf.float32),
            "aspect": tf.cast(aspect[pick], tf.float32),
            "angle": between(u[4], *self.rotation),
            "shear": between(u[5], *self.shear),
            "jitter": u[6] < self.jitter_p,
            "brightness": between(u[7], max(0.0, 1.0 - self.brightness), 1.0 + self.brightness),
            "contrast": between(u[8], max(0.0, 1.0 - self.contrast), 1.0 + self.contrast),
            "saturation": between(u[9], max(0.0, 1.0 - self.saturation), 1.0 + self.saturation),
            "hue": between(u[10], -self.hue, self.hue),
            "flip": u[11] < 0.5,
        }

    # ----------------------------------------------------------- steps
    def crop_and_resize(self, image, params):
        """Steps 1-2: crops `params["box"]` and resizes it bicubic.

        Args:
            image: `(H, W, 3)` uint8 (0..255) or float (0..1) tensor.
            params: one patch's dict from `sample_params`.

        Returns:
            float32 `(L, L, 3)` in [0, 1], `L = resize_size`.
        """
        image = tf.convert_to_tensor(image)
        y, x, h, w = tf.unstack(params["box"])
        crop = tf.slice(image, tf.stack([y, x, 0]), tf.stack([h, w, 3]))
        if crop.dtype == tf.uint8:
            crop = tf.cast(crop, tf.float32) / 255.0
        else:
            crop = tf.cast(crop, tf.float32)
        size = self.resize_size

        def resize(antialias):
            return lambda: tf.image.resize(crop, [size, size], method="bicubic", antialias=antialias)

        if self.antialias:
            # Antialiasing only changes a shrink; when the box is upscaled in
            # both directions the plain bicubic kernel is ~3x cheaper.
            out = tf.cond((h > size) | (w > size), resize(True), resize(False))
        else:
            out = resize(False)()
        out = tf.clip_by_value(out, 0.0, 1.0)
        return tf.ensure_shape(out, [size, size, 3])

    def _transforms(self, angle_deg, shear_deg):
        """Inverse affine maps (output pixel -> input pixel), shape [B, 8].

        Forward map about the centre c of the L x L input: p' = c + R(angle)
        Sh(shear) (p - c), then a centre crop at integer offset
        round((L - S) / 2) (as torchvision's CenterCrop). The output pixel q
        samples the input at c + M (q + off - c) with M = (R Sh)^-1.
        """
        big, small = self.resize_size, self.patch_size
        centre = (big - 1) / 2.0
        offset = float(int(round((big - small) / 2.0)))
        d = offset - centre
        # Image rows grow downwards: R(-angle) in (x, y) pixel coordinates
        # turns the picture counter-clockwise for a positive angle (as
        # torchvision). Sh: x' = x + tan(shear) * y (about the centre).
        a = -angle_deg * (math.pi / 180.0)
        s = shear_deg * (math.pi / 180.0)
        cos, sin, tan = tf.cos(a), tf.sin(a), tf.tan(s)
        # R^-1 = [[cos, sin], [-sin, cos]]; Sh^-1 = [[1, -tan], [0, 1]]; M = Sh^-1 R^-1.
        m00 = cos + tan * sin
        m01 = sin - tan * cos
        m10 = -sin
        m11 = cos
        zeros = tf.zeros_like(cos)
        return tf.stack(
            [
                m00, m01, centre + d * (m00 + m01),
                m10, m11, centre + d * (m10 + m11),
                zeros, zeros,
            ],
            axis=-1,
        )

    def _jitter(self, x, params):
        if self.jitter_p == 0.0 or not (self.brightness or self.contrast or self.saturation or self.hue):
            return x

        def per_image(key):
            return tf.reshape(params[key], [-1, 1, 1, 1])

        grey_w = tf.constant(_GREY, tf.float32)

        def grey(v):
            return tf.reduce_sum(v * grey_w, axis=-1, keepdims=True)

        y = x
        if self.brightness:
            y = tf.clip_by_value(y * per_image("brightness"), 0.0, 1.0)
        if self.contrast:
            c = per_image("contrast")
            mean = tf.reduce_mean(grey(y), axis=[1, 2, 3], keepdims=True)
            y = tf.clip_by_value(c * y + (1.0 - c) * mean, 0.0, 1.0)
        if self.saturation:
            s = per_image("saturation")
            y = tf.clip_by_value(s * y + (1.0 - s) * grey(y), 0.0, 1.0)
        if self.hue:
            hsv = tf.image.rgb_to_hsv(y)
            hue = tf.math.floormod(hsv[..., :1] + per_image("hue"), 1.0)
            y = tf.clip_by_value(tf.image.hsv_to_rgb(tf.concat([hue, hsv[..., 1:]], -1)), 0.0, 1.0)
        return tf.where(tf.reshape(params["jitter"], [-1, 1, 1, 1]), y, x)

    def _maybe_jitter(self, x, params):
        if x.shape[0] == 1:  # one patch: skip the work when it is not jittered
            return tf.cond(params["jitter"][0], lambda: self._jitter(x, params), lambda: x)
        return self._jitter(x, params)

    def finish(self, images, params):
        """Steps 3-7 on a batch: affine + centre crop, jitter, flip, grey.

        Args:
            images: `(B, L, L, 3)` float32 from `crop_and_resize`.
            params: dict of `sample_params` outputs stacked to batch `B`.

        Returns:
            float32 `(B, S, S, channels)` in [0, 1].
        """
        images = tf.convert_to_tensor(images, tf.float32)
        size = self.patch_size
        x = tf.raw_ops.ImageProjectiveTransformV3(
            images=images,
            transforms=self._transforms(params["angle"], params["shear"]),
            output_shape=tf.constant([size, size], tf.int32),
            fill_value=tf.constant(0.0, tf.float32),
            interpolation="BILINEAR",
            fill_mode=self.fill_mode.upper(),
        )
        x = tf.clip_by_value(x, 0.0, 1.0)
        x = self._maybe_jitter(x, params)
        if self.vertical_flip:
            x = tf.where(tf.reshape(params["flip"], [-1, 1, 1, 1]), tf.reverse(x, axis=[1]), x)
        if self.channels == 1:
            x = tf.reduce_sum(x * tf.constant(_GREY, tf.float32), axis=-1, keepdims=True)
        return tf.ensure_shape(x, [None, size, size, self.channels])

    def __call__(self, image, seed):
        """One patch: float32 `(S, S, channels)` in [0, 1].

        Args:
            image: `(H, W, 3)` uint8 or float [0, 1] array / tensor.
            seed: int or shape-[2] int tensor (stateless).
        """
        image = tf.convert_to_tensor(image)
        if image.shape.rank is not None and image.shape[0] is not None and image.shape[1] is not None:
            self.check_image_size(image.shape)
        params = self.sample_params(tf.shape(image), seed)
        patch = self.crop_and_resize(image, params)
        batch = {k: tf.expand_dims(v, 0) for k, v in params.items()}
        return self.finish(patch[None], batch)[0]

    def sample_crop_boxes(self, image_shape, num, seed=0):
        """The crop parameters of the first `num` patches of a stream.

        Exactly those used by `single_image_dataset(..., seed=seed)`.

        Returns:
            A dict of numpy arrays: `square` (N, 3) as (y, x, side), `box`
            (N, 4) as (y, x, h, w) in image pixels, `area_fraction` (N,) and
            `aspect` (N,) as sampled (before pixel rounding).
        """
        shape = tf.constant([int(image_shape[0]), int(image_shape[1])], tf.int32)
        keys = ("square", "box", "area_fraction", "aspect")

        def draw(index):
            p = self.sample_params(shape, _element_seed(seed, index))
            return {k: p[k] for k in keys}

        ds = tf.data.Dataset.range(int(num)).map(draw).batch(int(num))
        return {k: v.numpy() for k, v in ds.get_single_element().items()}

    # ----------------------------------------------------------- streams
    def dataset(self, image, batch_size=None, seed=0, patches_per_epoch=None):
        """A streaming `tf.data.Dataset` of patches of a loaded image.

        See `single_image_dataset` (which loads the image first).
        """
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(
                f"PatchChain.dataset needs an (H, W, 3) image, got shape {image.shape}: "
                "pass load_image(...)'s output"
            )
        self.check_image_size(image.shape)
        if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        seed = int(seed)
        image_t = tf.constant(image)
        per_iter = None
        if patches_per_epoch is not None:
            if int(patches_per_epoch) < 1:
                raise ValueError(
                    f"patches_per_epoch must be a positive int or None, got {patches_per_epoch!r}: "
                    "pass e.g. patches_per_epoch(patch_size)"
                )
            per_iter = int(patches_per_epoch)
            if batch_size:  # whole batches only: ceil(N / B) batches per epoch
                per_iter = -(-per_iter // int(batch_size)) * int(batch_size)
        indices = _indices(per_iter)

        def one(index):
            return self(image_t, _element_seed(seed, index))

        # Per-element chain, then batch. Measured on 2 (shared, noisy) CPU
        # cores, hubble_deep_field, batch 256, patches/s: S=32 ~1000-2000 per
        # element vs ~1100-2100 with per-element crop + one vectorised
        # affine/jitter per batch (a tie); S=224 ~100-115 per element vs
        # ~50-80 batched (batching the (317, 317, 3) pre-crop images costs
        # more than the vectorised ops save). Per element also lets each
        # patch skip jitter when it is not drawn.
        ds = indices.map(one, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if batch_size is not None:
            ds = ds.batch(int(batch_size), drop_remainder=True)
        if per_iter is not None:  # known length: Keras shows progress, no "ran out of data"
            ds = ds.apply(tf.data.experimental.assert_cardinality(per_iter // (batch_size or 1)))
        return ds.prefetch(tf.data.AUTOTUNE)


def _indices(per_iteration):
    """Patch indices: 0, 1, 2, ... forever, or N per iteration continuing.

    With `per_iteration=N` the dataset is finite and its e-th iteration
    yields indices [e*N, (e+1)*N): an epoch counter (a tf.Variable owned by
    the dataset) makes each new pass (each Keras epoch) continue the endless
    stream instead of repeating it.
    """
    if per_iteration is None:
        return tf.data.Dataset.counter()
    n = tf.constant(per_iteration, tf.int64)
    epoch = tf.Variable(tf.constant(-1, tf.int64), trainable=False, name="aip_patch_epoch")

    def this_epoch(_):
        start = epoch.assign_add(1) * n
        return tf.data.Dataset.range(start, start + n)

    return tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).flat_map(this_epoch)


# --------------------------------------------------------------------------
# Functional API
# --------------------------------------------------------------------------


def patch_chain(image, seed=0, patch_size=32, **chain_kwargs):
    """One augmented patch of `image` (eagerly or inside `tf.data`).

    Args:
        image: `(H, W, 3)` uint8 or float [0, 1] array / tensor.
        seed: int or shape-[2] int tensor (stateless).
        patch_size: output side S.
        **chain_kwargs: `PatchChain` arguments (`channels`, ranges, ...).

    Returns:
        float32 `(S, S, channels)` tensor in [0, 1].

    Example:

    >>> patch_chain(load_image("chelsea"), seed=1, patch_size=32).shape
    TensorShape([32, 32, 3])
    """
    return PatchChain(patch_size, **chain_kwargs)(image, seed)


def sample_crop_boxes(image_shape, num, seed=0, patch_size=32, **chain_kwargs):
    """Crop boxes of the first `num` patches of the stream with `seed`.

    Example:

    >>> boxes = sample_crop_boxes((300, 451), 100)
    >>> bool((boxes["area_fraction"] >= 1 / 500).all())
    True
    """
    return PatchChain(patch_size, **chain_kwargs).sample_crop_boxes(image_shape, num, seed)


def single_image_dataset(
    image,
    patch_size=32,
    batch_size=None,
    seed=0,
    channels=3,
    patches_per_epoch=None,
    **chain_kwargs,
):
    """An endless, seeded `tf.data.Dataset` of augmented patches of one image.

    Yields `x` only (no labels): `(S, S, C)` patches, or `(B, S, S, C)`
    batches (full batches only) if `batch_size` is given. Patch `i` depends
    only on `(seed, i)` (stateless random ops, deterministic parallel map), so
    the same seed gives the same stream whatever the batch size.

    Args:
        image: path, array or photo name (see `load_image`; `"noise"` uses
            `seed` too).
        patch_size: patch side S.
        batch_size: batch size, or None for single patches.
        seed: int seed of the stream.
        channels: 3 (RGB) or 1 (grey, luma).
        patches_per_epoch: None for an endless stream; an int N for a finite
            dataset of N patches (rounded up to whole batches) per iteration,
            where each new iteration continues the stream with new patches
            (see `patches_per_epoch()` for the paper's sizes).
        **chain_kwargs: other `PatchChain` arguments.

    Example:

    >>> ds = single_image_dataset("astronaut", patch_size=32, batch_size=8)
    >>> next(iter(ds)).shape
    TensorShape([8, 32, 32, 3])
    """
    array = load_image(image, seed=seed)
    chain = PatchChain(patch_size, channels=channels, **chain_kwargs)
    chain.check_image_size(array.shape, name=f"image {_describe(image)!r}")
    return chain.dataset(array, batch_size=batch_size, seed=seed, patches_per_epoch=patches_per_epoch)


def patch_bank(image, num_patches, patch_size=32, seed=0, channels=3, batch_size=256, **chain_kwargs):
    """Materialises `num_patches` patches once, as the paper's code did.

    The bank holds exactly the first `num_patches` patches of
    `single_image_dataset(image, patch_size, seed=seed, ...)`.

    Returns:
        float32 numpy array `(N, S, S, channels)` in [0, 1] (N * S * S * C * 4
        bytes: 614 MB for 50,000 RGB patches at S=32).

    Example:

    >>> patch_bank("coffee", 10, patch_size=16).shape
    (10, 16, 16, 3)
    """
    num_patches = int(num_patches)
    if num_patches < 1:
        raise ValueError(f"num_patches must be a positive int, got {num_patches}: pass e.g. 50000")
    array = load_image(image, seed=seed)
    chain = PatchChain(patch_size, channels=channels, **chain_kwargs)
    chain.check_image_size(array.shape, name=f"image {_describe(image)!r}")
    return _fill_bank(chain, array, num_patches, seed, batch_size)


def _fill_bank(chain, array, num_patches, seed, batch_size):
    batch = max(1, min(int(batch_size), num_patches))
    s = chain.patch_size
    bank = np.empty((num_patches, s, s, chain.channels), np.float32)
    done = 0
    for x in chain.dataset(array, batch_size=batch, seed=seed):
        take = min(batch, num_patches - done)
        bank[done : done + take] = x.numpy()[:take]
        done += take
        if done == num_patches:
            break
    return bank


def patch_bank_dataset(bank, batch_size, seed=0):
    """An endless, shuffled stream of full batches drawn from a patch bank.

    Every pass over the bank is a fresh seeded permutation (stateless, so the
    stream depends only on `seed`); batches may straddle passes.

    Example:

    >>> bank = np.zeros((10, 8, 8, 3), "float32")
    >>> next(iter(patch_bank_dataset(bank, 4))).shape
    TensorShape([4, 8, 8, 3])
    """
    bank = np.asarray(bank)
    if bank.ndim != 4 or bank.shape[0] == 0:
        raise ValueError(
            f"patch bank has shape {bank.shape}, expected (N, S, S, C) with N >= 1: pass patch_bank(...)'s output"
        )
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    bank_t = tf.constant(bank)
    n = bank.shape[0]
    base = _seed_tensor(int(seed))

    def one_pass(epoch):
        key = tf.random.experimental.stateless_fold_in(base, epoch)
        order = tf.argsort(tf.random.stateless_uniform([n], key))
        return tf.data.Dataset.from_tensor_slices(order)

    ds = tf.data.Dataset.counter().flat_map(one_pass)
    ds = ds.batch(int(batch_size), drop_remainder=True)
    ds = ds.map(lambda idx: tf.gather(bank_t, idx), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------
# Bundled settings
# --------------------------------------------------------------------------


class SingleImageSource:
    """One image plus patch-chain settings: streams, banks and a config.

    The image is loaded once. `get_config()` is a plain JSON-friendly dict;
    the image is stored by its name or path. Arrays are **not** serialised:
    a source built from an array stores `"image": None` and `from_config`
    then needs `image=` passed explicitly.

    Args:
        image: path, photo name or array (see `load_image`).
        patch_size: patch side S.
        channels: 3 (RGB) or 1 (grey).
        image_seed: seed of the `"noise"` image (the stream seed is given to
            `dataset` / `bank`).
        **chain_kwargs: other `PatchChain` arguments.

    Example:

    >>> source = SingleImageSource("chelsea", patch_size=32)
    >>> next(iter(source.dataset(batch_size=4, seed=0))).shape
    TensorShape([4, 32, 32, 3])
    >>> SingleImageSource.from_config(source.get_config()).get_config() == source.get_config()
    True
    """

    def __init__(self, image="hubble_deep_field", patch_size=32, channels=3, image_seed=0, **chain_kwargs):
        self.image_name = (
            str(image) if isinstance(image, (str, os.PathLike)) else None
        )
        self.image_seed = int(image_seed)
        self.image = load_image(image, seed=self.image_seed)
        self.chain = PatchChain(patch_size, channels=channels, **chain_kwargs)
        self.chain.check_image_size(self.image.shape, name=f"image {_describe(image)!r}")

    @property
    def patch_size(self):
        return self.chain.patch_size

    @property
    def channels(self):
        return self.chain.channels

    def patches_per_epoch(self):
        """`patches_per_epoch(patch_size)`: 50,000 below 224, else 1,281,167."""
        return _epoch_rule(self.chain.patch_size)

    def dataset(self, batch_size=None, seed=0, patches_per_epoch=None):
        """The patch stream (see `single_image_dataset`)."""
        return self.chain.dataset(self.image, batch_size=batch_size, seed=seed, patches_per_epoch=patches_per_epoch)

    def bank(self, num_patches, seed=0, batch_size=256):
        """`num_patches` materialised patches (see `patch_bank`)."""
        num_patches = int(num_patches)
        if num_patches < 1:
            raise ValueError(f"num_patches must be a positive int, got {num_patches}: pass e.g. 50000")
        return _fill_bank(self.chain, self.image, num_patches, seed, batch_size)

    def get_config(self):
        return {"image": self.image_name, "image_seed": self.image_seed, **self.chain.get_config()}

    @classmethod
    def from_config(cls, config, image=None):
        config = dict(config)
        stored = config.pop("image", None)
        image = stored if image is None else image
        if image is None:
            raise ValueError(
                "SingleImageSource config has no image (it was built from an array, "
                "which is not serialised): pass image=<array or path> to from_config"
            )
        return cls(image, **config)

    def __repr__(self):
        return f"SingleImageSource(image={self.image_name or 'array'!r}, patch_size={self.patch_size}, channels={self.channels})"
