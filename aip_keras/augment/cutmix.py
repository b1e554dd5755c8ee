"""Batch mixing for distillation inputs: CutMix and MixUp on images only.

In the Augmented Image Prior the teacher labels whatever image it is shown, so
mixing acts on `x` alone and no labels are mixed. The paper (and its public
code) cuts ONE box per batch: the same rectangle is pasted into every image of
the batch from its partner image (the reversed batch for CIFAR, a random
permutation for ImageNet).

Why not `keras.layers.CutMix` / `keras.layers.MixUp` (Keras 3.15): they draw a
box (or a mixing weight) per sample, also draw `alpha` itself from `factor`
instead of fixing it, only pair by random permutation, accept 4-D images only,
and are built to mix labels. None of that is the recipe here, so these two
small layers implement it directly with `keras.ops` (TensorFlow backend, usable
eagerly, inside a model and inside `tf.data.Dataset.map`).
"""

import keras
from keras import ops

_PAIRS = ("reverse", "permute")


def _check_common(name, alpha, pair, probability):
    if not float(alpha) > 0:
        raise ValueError(f"{name} alpha must be > 0, got {alpha}: pass a positive Beta parameter (0.25 CIFAR, 1.0 ImageNet).")
    if pair not in _PAIRS:
        raise ValueError(f"{name} pair must be one of {_PAIRS}, got {pair!r}: use 'reverse' (CIFAR) or 'permute' (ImageNet).")
    if not 0.0 <= float(probability) <= 1.0:
        raise ValueError(f"{name} probability must be in [0, 1], got {probability}: pass a probability.")


def _check_rank(name, x):
    if len(x.shape) not in (4, 5):
        raise ValueError(
            f"{name} needs a batch of images (B, H, W, C) or videos (B, T, H, W, C), got shape {tuple(x.shape)}: "
            "batch the dataset before mixing."
        )


def _partner(x, pair, seed_generator):
    """The batch each image borrows from: reversed or randomly permuted."""
    if pair == "reverse":
        return ops.flip(x, axis=0)
    order = keras.random.shuffle(ops.arange(ops.shape(x)[0]), seed=seed_generator)
    return ops.take(x, order, axis=0)


class _BatchMix(keras.layers.Layer):
    """What CutMix and MixUp share: alpha, partner choice, probability, seed, rank check, config."""

    def __init__(self, alpha=1.0, pair="reverse", probability=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_common(type(self).__name__, alpha, pair, probability)
        self.alpha = float(alpha)
        self.pair = pair
        self.probability = float(probability)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def __call__(self, images, *args, **kwargs):
        _check_rank(type(self).__name__, images)  # here, not in call(), so the error stays one line
        return super().__call__(images, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(alpha=self.alpha, pair=self.pair, probability=self.probability, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="aip_keras")
class CutMix(_BatchMix):
    """Pastes one random box, shared by the whole batch, from a partner image.

    `lambda ~ Beta(alpha, alpha)`; the box has sides `floor(sqrt(1 - lambda) * H)`
    and `floor(sqrt(1 - lambda) * W)`, a uniformly random centre, and is clipped
    to the image (so it can be smaller than `1 - lambda` of the area), exactly as
    `rand_bbox` in the paper's code. Every image `i` of the batch gets the box
    content of its partner: image `B - 1 - i` (`pair="reverse"`) or image
    `perm[i]` of a random permutation (`pair="permute"`). Videos
    `(B, T, H, W, C)` get the same box on every frame (the cut is over H x W
    only). No labels are mixed: the teacher labels the mixed image. Acts only
    when `training` is true (the default when called directly).

    Args:
        alpha: Beta distribution parameter (0.25 in the CIFAR recipe, 1.0 ImageNet).
        pair: `"reverse"` or `"permute"`, which image each one borrows from.
        probability: chance that a batch is mixed at all (1.0: every batch).
        seed: int seed of the layer's random stream, or None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> layer = CutMix(alpha=0.25, pair="reverse", seed=0)
    >>> layer(np.random.rand(4, 32, 32, 3).astype("float32")).shape
    TensorShape([4, 32, 32, 3])
    """

    def box_mask(self, images):
        """Draws one box for a batch shaped like `images`; bool mask broadcastable to it."""
        shape = ops.shape(images)
        height, width = shape[-3], shape[-2]
        lam = keras.random.beta((), self.alpha, self.alpha, seed=self.seed_generator)
        cut = ops.sqrt(1.0 - lam)
        cut_h = ops.cast(ops.floor(ops.cast(height, "float32") * cut), "int32")
        cut_w = ops.cast(ops.floor(ops.cast(width, "float32") * cut), "int32")
        cy = keras.random.randint((), 0, height, seed=self.seed_generator)
        cx = keras.random.randint((), 0, width, seed=self.seed_generator)
        y1 = ops.clip(cy - cut_h // 2, 0, height)
        y2 = ops.clip(cy + cut_h // 2, 0, height)
        x1 = ops.clip(cx - cut_w // 2, 0, width)
        x2 = ops.clip(cx + cut_w // 2, 0, width)
        rows = ops.arange(height)
        cols = ops.arange(width)
        in_rows = ops.logical_and(rows >= y1, rows < y2)
        in_cols = ops.logical_and(cols >= x1, cols < x2)
        mask = ops.logical_and(in_rows[:, None], in_cols[None, :])
        if self.probability < 1.0:
            apply = keras.random.uniform((), seed=self.seed_generator) < self.probability
            mask = ops.logical_and(mask, apply)
        # (H, W) -> (1, H, W, 1) or (1, 1, H, W, 1): same box for all samples/frames.
        return ops.reshape(mask, (1,) * (len(images.shape) - 3) + (height, width, 1))

    def call(self, images, training=True):
        if not training:
            return images
        mask = self.box_mask(images)
        return ops.where(mask, _partner(images, self.pair, self.seed_generator), images)


@keras.saving.register_keras_serializable(package="aip_keras")
class MixUp(_BatchMix):
    """Blends the batch with a partner batch using one weight per batch.

    `lambda ~ Beta(alpha, alpha)` once per batch; output
    `lambda * x + (1 - lambda) * partner`, with the same partner choice as
    `CutMix`. Images only, no label mixing; works on `(B, H, W, C)` and
    `(B, T, H, W, C)`; the output stays in [0, 1] when the input is.

    Args:
        alpha: Beta distribution parameter.
        pair: `"reverse"` or `"permute"`.
        probability: chance that a batch is mixed at all.
        seed: int seed of the layer's random stream, or None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Example:

    >>> import numpy as np
    >>> MixUp(alpha=0.2, seed=0)(np.random.rand(4, 8, 8, 3).astype("float32")).shape
    TensorShape([4, 8, 8, 3])
    """

    def __init__(self, alpha=0.2, pair="reverse", probability=1.0, seed=None, **kwargs):
        super().__init__(alpha=alpha, pair=pair, probability=probability, seed=seed, **kwargs)

    def call(self, images, training=True):
        if not training:
            return images
        lam = keras.random.beta((), self.alpha, self.alpha, seed=self.seed_generator)
        if self.probability < 1.0:
            apply = keras.random.uniform((), seed=self.seed_generator) < self.probability
            lam = ops.where(apply, lam, 1.0)
        lam = ops.cast(lam, images.dtype)
        return lam * images + (1.0 - lam) * _partner(images, self.pair, self.seed_generator)
