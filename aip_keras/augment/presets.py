"""Batch-level augmentation policies (the paper's online recipes) and their ops.

A policy is a `keras.layers.Pipeline` called on a batch of distillation inputs
`x` (float32, `(B, H, W, C)`, values in [0, 1]) and returning a batch in [0, 1].
Every per-sample op draws its own randomness for each image of the batch
(different flips, crops, jitter per image); CutMix then pastes one box shared
by the whole batch. There is no mean/std normalisation here: models normalise
inside themselves (see `aip_keras.models`) and `aip_keras.InputSpec` adapts a
[0, 1] batch to any other model.

Presets (`PRESETS` lists them with their default options):

- `"cifar"`: horizontal flip, zero-pad 4 + random crop back to the size
  (`padding_mode="constant"`, as torchvision `RandomCrop(32, padding=4)` in the
  paper's code), CutMix alpha 0.25 with the reversed batch.
- `"imagenet"`: random-resized crop to `image_size` (default 224) with scale
  (0.08, 1) and ratio (3/4, 4/3); colour jitter brightness .4, contrast .4,
  saturation .4, hue .4 with p=.8; grayscale p=.2; solarize p=.2; horizontal
  flip; CutMix alpha 1.0 with a random permutation.
- `"none"`: identity (CutMix / MixUp can still be switched on by overrides).

Ops taken from Keras core: `RandomFlip` and `RandomGrayscale` (both per-sample and
indifferent to the value range; the latter subclassed only to keep its seed in
its config). Ops written here, with why:

- `RandomPadCrop`: `keras.layers.RandomCrop` crops every image of a batch at
  the same offset; the recipe needs one offset per image.
- `RandomResizedCrop`: Keras core has none (keras-cv's `RandomCropAndResize`
  pulls in keras-cv's own layer stack); this one is per-sample, in `keras.ops`.
- `ColorJitter`: `keras.layers.RandomColorJitter` has no probability and other
  factor semantics (additive brightness, a different saturation scale); this
  follows torchvision's `ColorJitter` (multiplicative factors in
  `[1 - f, 1 + f]`, hue shift in `[-h, h]`) with a per-sample probability.
- `RandomSolarize`: `keras.layers.Solarization` draws a random threshold (whose
  lower bound is not scaled by 255) and has no probability; the recipe is
  "invert pixels above 0.5 with p=.2".

All layers use `keras.ops` with a `keras.random.SeedGenerator` (TensorFlow
backend): they run eagerly, inside models and inside `tf.data.Dataset.map`.
"""

import math

import keras
import tensorflow as tf
from keras import ops

from aip_keras.augment.cutmix import CutMix, MixUp


def _pair(size, what):
    if isinstance(size, int):
        size = (size, size)
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"{what} must be an int or (height, width) of positive ints, got {size}: pass e.g. 32 or (32, 32).")
    return size


def _check_batch(name, images):
    if len(images.shape) != 4:
        raise ValueError(
            f"{name} needs a batch of images (B, H, W, C), got shape {tuple(images.shape)}: batch the dataset first."
        )


def _per_sample(flags):
    """(B,) bool -> (B, 1, 1, 1) for `ops.where` over images."""
    return ops.reshape(flags, (-1, 1, 1, 1))


def _check_probability(name, value):
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}: pass a probability.")
    return float(value)


class _BatchLayer(keras.layers.Layer):
    """Checks for a 4-D batch before Keras wraps call() errors in extra lines."""

    def __call__(self, images, *args, **kwargs):
        _check_batch(type(self).__name__, images)
        return super().__call__(images, *args, **kwargs)


@keras.saving.register_keras_serializable(package="aip_keras")
class RandomGrayscale(keras.layers.RandomGrayscale):
    """`keras.layers.RandomGrayscale` whose config keeps its seed.

    Keras 3.15 leaves `seed` out of `RandomGrayscale.get_config()`, so a policy
    rebuilt from its config would draw a different stream. Per-sample; any
    value range.

    Example:

    >>> import numpy as np
    >>> RandomGrayscale(0.2, seed=0)(np.random.rand(2, 8, 8, 3).astype("float32")).shape
    TensorShape([2, 8, 8, 3])
    """

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


@keras.saving.register_keras_serializable(package="aip_keras")
class RandomPadCrop(_BatchLayer):
    """Pads a batch, then crops each image at its own random offset.

    Equivalent to torchvision `RandomCrop(size, padding=padding)` applied per
    image, with integer offsets drawn uniformly in `[0, H + 2 * padding - h]`.

    Args:
        padding: pixels added on each side of height and width.
        size: output `(height, width)` (int or pair); None keeps the input size.
        padding_mode: `"constant"` (zeros, torchvision's default), `"reflect"`
            (mirror without repeating the edge) or `"symmetric"` (with it).
        seed: int seed of the layer's random stream, or None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> RandomPadCrop(padding=4, seed=0)(np.random.rand(2, 32, 32, 3).astype("float32")).shape
    TensorShape([2, 32, 32, 3])
    """

    _MODES = ("constant", "reflect", "symmetric")

    def __init__(self, padding=4, size=None, padding_mode="constant", seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(padding) < 0:
            raise ValueError(f"RandomPadCrop padding must be >= 0, got {padding}: pass a pixel count.")
        if padding_mode not in self._MODES:
            raise ValueError(f"RandomPadCrop padding_mode must be one of {self._MODES}, got {padding_mode!r}: pick one.")
        self.padding = int(padding)
        self.size = None if size is None else _pair(size, "RandomPadCrop size")
        self.padding_mode = padding_mode
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        height, width = images.shape[1], images.shape[2]
        out_h, out_w = self.size or (height, width)
        if not training and (out_h, out_w) == (height, width):
            return images
        p = self.padding
        if p:
            images = ops.pad(images, [[0, 0], [p, p], [p, p], [0, 0]], mode=self.padding_mode)
        if height is not None and (height + 2 * p < out_h or width + 2 * p < out_w):
            raise ValueError(
                f"RandomPadCrop cannot crop {(out_h, out_w)} from padded {(height + 2 * p, width + 2 * p)} images: "
                "resize the images first or lower size."
            )
        shape = ops.shape(images)
        batch = shape[0]
        if training:
            oy = keras.random.randint((batch,), 0, shape[1] - out_h + 1, seed=self.seed_generator)
            ox = keras.random.randint((batch,), 0, shape[2] - out_w + 1, seed=self.seed_generator)
        else:  # centre crop
            oy = ops.full((batch,), (shape[1] - out_h) // 2, dtype="int32")
            ox = ops.full((batch,), (shape[2] - out_w) // 2, dtype="int32")
        rows = oy[:, None] + ops.arange(out_h)[None, :]
        cols = ox[:, None] + ops.arange(out_w)[None, :]
        images = ops.take_along_axis(images, rows[:, :, None, None], axis=1)
        return ops.take_along_axis(images, cols[:, None, :, None], axis=2)

    def compute_output_shape(self, input_shape):
        if self.size is None:
            return input_shape
        return (input_shape[0], *self.size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, size=self.size, padding_mode=self.padding_mode, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="aip_keras")
class RandomResizedCrop(_BatchLayer):
    """Per-image random-resized crop (torchvision `RandomResizedCrop`, vectorised).

    For each image: area fraction `s ~ U(scale)`, aspect ratio log-uniform in
    `ratio`, box `w = sqrt(s * H * W * r)`, `h = sqrt(s * H * W / r)` clipped to
    the image (torchvision re-draws up to 10 times instead; clipping keeps it
    one vectorised draw), uniformly random position, bilinear resampling to
    `size`. Works at the larger of the input and output resolutions.

    Args:
        size: output `(height, width)` or int.
        scale: range of the crop's area fraction.
        ratio: range of the crop's aspect ratio (width / height).
        seed: int seed of the layer's random stream, or None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> RandomResizedCrop(16, seed=0)(np.random.rand(2, 32, 32, 3).astype("float32")).shape
    TensorShape([2, 16, 16, 3])
    """

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.size = _pair(size, "RandomResizedCrop size")
        scale = tuple(float(s) for s in scale)
        ratio = tuple(float(r) for r in ratio)
        if len(scale) != 2 or not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f"RandomResizedCrop scale must be (low, high) with 0 < low <= high <= 1, got {scale}: fix the range.")
        if len(ratio) != 2 or not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f"RandomResizedCrop ratio must be (low, high) with 0 < low <= high, got {ratio}: fix the range.")
        self.scale = scale
        self.ratio = ratio
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return ops.image.resize(images, self.size)
        height, width = images.shape[1], images.shape[2]
        upsample_first = height is not None and width is not None and height * width < self.size[0] * self.size[1]
        if upsample_first:
            images = ops.image.resize(images, self.size)
        shape = ops.shape(images)
        batch = shape[0]
        h_in = ops.cast(shape[1], "float32")
        w_in = ops.cast(shape[2], "float32")
        area = keras.random.uniform((batch,), self.scale[0], self.scale[1], seed=self.seed_generator) * h_in * w_in
        log_r = keras.random.uniform(
            (batch,), math.log(self.ratio[0]), math.log(self.ratio[1]), seed=self.seed_generator
        )
        aspect = ops.exp(log_r)
        box_w = ops.minimum(ops.sqrt(area * aspect), w_in)
        box_h = ops.minimum(ops.sqrt(area / aspect), h_in)
        x0 = keras.random.uniform((batch,), seed=self.seed_generator) * (w_in - box_w)
        y0 = keras.random.uniform((batch,), seed=self.seed_generator) * (h_in - box_h)
        # Output pixel (x, y) of an h_in x w_in frame samples input (a0 x + a2, b1 y + b2)
        # so that pixel centres of the output span the box.
        a0 = box_w / w_in
        b1 = box_h / h_in
        a2 = x0 + 0.5 * a0 - 0.5
        b2 = y0 + 0.5 * b1 - 0.5
        zeros = ops.zeros_like(a0)
        transform = ops.stack([a0, zeros, a2, zeros, b1, b2, zeros, zeros], axis=1)
        images = ops.image.affine_transform(images, transform, interpolation="bilinear", fill_mode="nearest")
        if not upsample_first:
            images = ops.image.resize(images, self.size)
        return ops.clip(images, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, scale=self.scale, ratio=self.ratio, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="aip_keras")
class ColorJitter(_BatchLayer):
    """torchvision-style colour jitter on [0, 1] images, applied with probability p.

    Per image, in the fixed order brightness, contrast, saturation, hue
    (torchvision shuffles the order): brightness multiplies by
    `U(1 - b, 1 + b)`; contrast blends with the image's mean grey by
    `U(1 - c, 1 + c)`; saturation blends with the grey image by
    `U(1 - s, 1 + s)`; hue rotates by `U(-h, h)` turns. Results are clipped to
    [0, 1] after each step. Grey (C=1) images get brightness and contrast only.

    Args:
        brightness: b >= 0.
        contrast: c >= 0.
        saturation: s >= 0.
        hue: h in [0, 0.5].
        probability: chance that an image is jittered at all.
        seed: int seed of the layer's random stream, or None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> ColorJitter(0.4, 0.4, 0.4, 0.1, seed=0)(np.random.rand(2, 8, 8, 3).astype("float32")).shape
    TensorShape([2, 8, 8, 3])
    """

    def __init__(self, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, probability=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation)):
            if float(value) < 0:
                raise ValueError(f"ColorJitter {name} must be >= 0, got {value}: pass a non-negative strength.")
        if not 0.0 <= float(hue) <= 0.5:
            raise ValueError(f"ColorJitter hue must be in [0, 0.5], got {hue}: pass a fraction of a turn.")
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.saturation = float(saturation)
        self.hue = float(hue)
        self.probability = _check_probability("ColorJitter probability", probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _factor(self, batch, strength):
        low = max(0.0, 1.0 - strength)
        factor = keras.random.uniform((batch,), low, 1.0 + strength, seed=self.seed_generator)
        return ops.reshape(factor, (-1, 1, 1, 1))

    def call(self, images, training=True):
        if not training:
            return images
        rgb = images.shape[-1] == 3
        batch = ops.shape(images)[0]
        x = images
        if self.brightness > 0:
            x = ops.clip(x * self._factor(batch, self.brightness), 0.0, 1.0)
        if self.contrast > 0:
            grey = ops.image.rgb_to_grayscale(x) if rgb else x
            mean = ops.mean(grey, axis=(1, 2, 3), keepdims=True)
            f = self._factor(batch, self.contrast)
            x = ops.clip(f * x + (1.0 - f) * mean, 0.0, 1.0)
        if rgb and self.saturation > 0:
            grey = ops.image.rgb_to_grayscale(x)
            f = self._factor(batch, self.saturation)
            x = ops.clip(f * x + (1.0 - f) * grey, 0.0, 1.0)
        if rgb and self.hue > 0:
            shift = keras.random.uniform((batch,), -self.hue, self.hue, seed=self.seed_generator)
            hsv = ops.image.rgb_to_hsv(x)
            h = hsv[..., :1] + ops.reshape(shift, (-1, 1, 1, 1))
            h = h - ops.floor(h)
            x = ops.clip(ops.image.hsv_to_rgb(ops.concatenate([h, hsv[..., 1:]], axis=-1)), 0.0, 1.0)
        if self.probability < 1.0:
            apply = keras.random.uniform((batch,), seed=self.seed_generator) < self.probability
            x = ops.where(_per_sample(apply), x, images)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            brightness=self.brightness,
            contrast=self.contrast,
            saturation=self.saturation,
            hue=self.hue,
            probability=self.probability,
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package="aip_keras")
class RandomSolarize(_BatchLayer):
    """Inverts pixels at or above `threshold` (x -> 1 - x), per image with probability p.

    Args:
        threshold: value in [0, 1] from which pixels are inverted.
        probability: chance that an image is solarised.
        seed: int seed of the layer's random stream, or None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> float(RandomSolarize(probability=1.0)(np.full((1, 2, 2, 3), 0.75, "float32"))[0, 0, 0, 0])
    0.25
    """

    def __init__(self, threshold=0.5, probability=0.2, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"RandomSolarize threshold must be in [0, 1], got {threshold}: images are in [0, 1].")
        self.threshold = float(threshold)
        self.probability = _check_probability("RandomSolarize probability", probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        apply = keras.random.uniform((ops.shape(images)[0],), seed=self.seed_generator) < self.probability
        flip = ops.logical_and(_per_sample(apply), images >= self.threshold)
        return ops.where(flip, 1.0 - images, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(threshold=self.threshold, probability=self.probability, seed=self.seed)
        return config


_MIX_DEFAULTS = {
    "cutmix_probability": 1.0,
    "mixup_alpha": 0.0,
    "mixup_pair": "reverse",
    "mixup_probability": 1.0,
}

PRESETS = {
    "none": {"cutmix_alpha": 0.0, "cutmix_pair": "reverse", **_MIX_DEFAULTS},
    "cifar": {
        "flip": True,
        "padding": 4,
        "padding_mode": "constant",
        "cutmix_alpha": 0.25,
        "cutmix_pair": "reverse",
        **_MIX_DEFAULTS,
    },
    "imagenet": {
        "scale": (0.08, 1.0),
        "ratio": (3 / 4, 4 / 3),
        "brightness": 0.4,
        "contrast": 0.4,
        "saturation": 0.4,
        "hue": 0.4,
        "jitter_probability": 0.8,
        "grayscale_probability": 0.2,
        "solarize_probability": 0.2,
        "solarize_threshold": 0.5,
        "flip": True,
        "cutmix_alpha": 1.0,
        "cutmix_pair": "permute",
        **_MIX_DEFAULTS,
    },
}
"""Policy names -> their default options (each option can be overridden in `build_policy`)."""


def build_policy(name, image_size=None, seed=None, **overrides):
    """Builds a named augmentation policy as one layer callable on a [0, 1] batch.

    The result is a `keras.layers.Pipeline` (get_config-able, serialisable)
    whose per-sample ops vary across the images of a batch, followed by CutMix
    (one box per batch) and, if `mixup_alpha > 0`, MixUp. Output stays in
    [0, 1]; no mean/std normalisation is done here (that lives in the model or
    in `aip_keras.InputSpec`).

    Args:
        name: a key of `PRESETS` (`"cifar"`, `"imagenet"`, `"none"`).
        image_size: output size (int or `(h, w)`): the crop size for `"cifar"`
            (None: the input size), the random-resized-crop size for
            `"imagenet"` (None: 224); `"none"` never resizes.
        seed: int seed; each op gets `seed + i`, so one seed gives one stream.
            None: unseeded.
        **overrides: options of `PRESETS[name]` to change, e.g.
            `cutmix_alpha=0` (no CutMix), `padding_mode="reflect"`, `hue=0.1`.

    Returns:
        A `keras.layers.Pipeline` named `"<name>_policy"`.

    Example:

    >>> import numpy as np
    >>> policy = build_policy("cifar", 32, seed=0)
    >>> policy(np.random.rand(4, 32, 32, 3).astype("float32")).shape
    TensorShape([4, 32, 32, 3])
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown augmentation policy {name!r}: use one of {sorted(PRESETS)}.")
    unknown = sorted(set(overrides) - set(PRESETS[name]))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for policy {name!r}: valid options are {sorted(PRESETS[name])}.")
    opt = {**PRESETS[name], **overrides}
    counter = iter(range(1_000))

    def next_seed():
        i = next(counter)
        return None if seed is None else int(seed) + i

    layers = []
    if name == "cifar":
        if opt["flip"]:
            layers.append(keras.layers.RandomFlip("horizontal", seed=next_seed(), name="flip"))
        layers.append(
            RandomPadCrop(opt["padding"], image_size, opt["padding_mode"], seed=next_seed(), name="pad_crop")
        )
    elif name == "imagenet":
        size = 224 if image_size is None else image_size
        layers.append(RandomResizedCrop(size, opt["scale"], opt["ratio"], seed=next_seed(), name="random_resized_crop"))
        if opt["jitter_probability"] > 0:
            layers.append(
                ColorJitter(
                    opt["brightness"],
                    opt["contrast"],
                    opt["saturation"],
                    opt["hue"],
                    probability=opt["jitter_probability"],
                    seed=next_seed(),
                    name="color_jitter",
                )
            )
        if opt["grayscale_probability"] > 0:
            layers.append(
                RandomGrayscale(
                    _check_probability("grayscale_probability", opt["grayscale_probability"]),
                    seed=next_seed(),
                    name="grayscale",
                )
            )
        if opt["solarize_probability"] > 0:
            layers.append(
                RandomSolarize(
                    opt["solarize_threshold"], opt["solarize_probability"], seed=next_seed(), name="solarize"
                )
            )
        if opt["flip"]:
            layers.append(keras.layers.RandomFlip("horizontal", seed=next_seed(), name="flip"))
    if opt["cutmix_alpha"] > 0:
        layers.append(
            CutMix(opt["cutmix_alpha"], opt["cutmix_pair"], opt["cutmix_probability"], seed=next_seed(), name="cutmix")
        )
    if opt["mixup_alpha"] > 0:
        layers.append(
            MixUp(opt["mixup_alpha"], opt["mixup_pair"], opt["mixup_probability"], seed=next_seed(), name="mixup")
        )
    if not layers:
        layers.append(keras.layers.Identity(name="identity"))
    return keras.layers.Pipeline(layers, name=f"{name}_policy")


def apply_policy(dataset, policy, num_parallel_calls=tf.data.AUTOTUNE):
    """Maps a policy over a batched `tf.data` dataset of images `x`.

    Args:
        dataset: a `tf.data.Dataset` yielding float32 batches `(B, H, W, C)`
            (or `(B, T, H, W, C)` for CutMix/MixUp-only policies), no labels.
        policy: a layer from `build_policy` (or any layer taking a batch).
        num_parallel_calls: passed to `Dataset.map`. The ops share one random
            stream per layer, so parallel calls draw from it in a racy order:
            pass None for a bitwise-reproducible seeded stream.

    Returns:
        The mapped dataset.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> ds = tf.data.Dataset.from_tensor_slices(np.random.rand(8, 32, 32, 3).astype("float32")).batch(4)
    >>> next(iter(apply_policy(ds, build_policy("cifar", 32, seed=0)))).shape
    TensorShape([4, 32, 32, 3])
    """
    spec = dataset.element_spec
    if not isinstance(spec, tf.TensorSpec):
        raise ValueError(
            f"apply_policy needs a dataset of image batches x only, got element_spec {spec}: "
            "map `lambda x, *rest: x` first (labels are never mixed)."
        )
    if spec.shape.rank not in (4, 5):
        raise ValueError(
            f"apply_policy needs batched images (B, H, W, C), got element shape {spec.shape}: call dataset.batch(...) first."
        )
    return dataset.map(policy, num_parallel_calls=num_parallel_calls)
