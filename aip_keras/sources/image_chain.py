"""The patch chain: one image and a stateless seed -> one heavily augmented patch (`PatchChain`).

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

import numpy as np
import tensorflow as tf

from aip_keras.utils import stateless_seed

IMAGE_SALT = 0x41495020
"""Second word of the stateless seed of every image stream (patches, fake clips): `image_seed(s) = [s, IMAGE_SALT]`."""

_GREY = (0.2989, 0.587, 0.114)  # torchvision / tf.image luma weights
_FILL_MODES = ("reflect", "nearest", "constant", "wrap")


def _pm(value, what):
    """`30` -> (-30, 30); `(lo, hi)` kept."""
    if isinstance(value, (tuple, list)):
        lo, hi = (float(v) for v in value)
    else:
        lo, hi = -abs(float(value)), abs(float(value))
    if lo > hi:
        raise ValueError(f"{what} range ({lo}, {hi}) has low > high: pass (low, high) or one number")
    return lo, hi


def image_seed(seed):
    """An int, scalar tensor or shape-[2] seed -> the int64 shape-[2] stateless seed of the image streams."""
    return stateless_seed(seed, IMAGE_SALT)


def element_seed(seed, index):
    """The stateless seed of element `index` (a patch, a clip) of the stream with int `seed`."""
    return tf.random.experimental.stateless_fold_in(image_seed(int(seed)), tf.cast(index, tf.int64))


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

    >>> from aip_keras.decode.image import load_image
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
        seed = image_seed(seed)
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

    def jitter(self, x, params):
        """Step 5 on a batch `(B, S, S, 3)`: colour jitter where `params["jitter"]` is drawn (see `sample_params`)."""
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
            return tf.cond(params["jitter"][0], lambda: self.jitter(x, params), lambda: x)
        return self.jitter(x, params)

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
            p = self.sample_params(shape, element_seed(seed, index))
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
            return self(image_t, element_seed(seed, index))

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
