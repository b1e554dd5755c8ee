"""Batch augmentation for video clips `(B, T, H, W, C)`: the paper's video preset at CPU scale.

The paper's Kinetics recipe: per clip, short-side scale U(183, 229), random
160 crop, horizontal flip, 4 frames sampled uniformly, then CutMix over
height x width, the same box on every frame (its public code cuts time x
height by mistake). Here sizes are relative to the clip size `S`: scale the
clip to U(183/160, 229/160) x S, crop S (same factor, position and flip for
all frames of a clip, one `tf.image.crop_and_resize` call), then sample
`frames` frames every `stride`-th from a random start, then `CutMix` (which
cuts H x W only on 5-D input).

Not included: the paper's AugMix per clip. Keras' `AugMix` picks its chain of
ops with Python's `random` when traced, so inside `tf.data` or a compiled
train step every clip would get the same chain, and its sub-ops draw their
strengths per frame, not per clip.
"""

import keras
import tensorflow as tf

from aip_keras.augment.cutmix import CutMix

PAPER_SCALE = (183 / 160, 229 / 160)


@keras.saving.register_keras_serializable(package="aip_keras")
class ClipScaleCrop(keras.layers.Layer):
    """Per clip: scale by U(scale), random crop back to the input size, optional horizontal flip.

    The same scale, crop position and flip hold for every frame of a clip.

    Args:
        scale: `(low, high)` zoom factors, >= 1 (the paper: 183/160 - 229/160).
        flip: flip half of the clips left-right.
        seed: int seed of the layer's random stream, or None.

    Example:

    >>> import numpy as np
    >>> ClipScaleCrop(seed=0)(np.random.rand(2, 4, 16, 16, 3).astype("float32")).shape
    TensorShape([2, 4, 16, 16, 3])
    """

    def __init__(self, scale=PAPER_SCALE, flip=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        low, high = (float(s) for s in scale)
        if not 1.0 <= low <= high:
            raise ValueError(f"scale must be (low, high) with 1 <= low <= high, got {scale}: e.g. (1.14, 1.43).")
        self.scale, self.flip, self.seed = (low, high), bool(flip), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, clips, training=True):
        if not training:
            return clips
        shape = tf.shape(clips)
        batch, frames, height, width = shape[0], shape[1], shape[2], shape[3]
        u = keras.random.uniform((batch, 4), seed=self.seed_generator)
        factor = self.scale[0] + (self.scale[1] - self.scale[0]) * u[:, 0]
        side = 1.0 / factor  # crop size as a fraction of the clip
        y1 = u[:, 1] * (1.0 - side)
        x1 = u[:, 2] * (1.0 - side)
        y2, x2 = y1 + side, x1 + side
        if self.flip:  # crop_and_resize flips when x1 > x2
            flipped = u[:, 3] < 0.5
            x1, x2 = tf.where(flipped, x2, x1), tf.where(flipped, x1, x2)
        boxes = tf.repeat(tf.stack([y1, x1, y2, x2], axis=-1), frames, axis=0)
        flat = tf.reshape(clips, tf.concat([[-1], shape[2:]], 0))
        out = tf.image.crop_and_resize(flat, boxes, tf.range(batch * frames), tf.stack([height, width]))
        return tf.reshape(tf.clip_by_value(out, 0.0, 1.0), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": list(self.scale), "flip": self.flip, "seed": self.seed}


@keras.saving.register_keras_serializable(package="aip_keras")
class TemporalSample(keras.layers.Layer):
    """Per clip: `frames` frames, every `stride`-th, from a random start (training) or the centre window.

    Args:
        frames: frames kept.
        stride: step between kept frames.
        seed: int seed of the layer's random stream, or None.

    Example:

    >>> import numpy as np
    >>> TemporalSample(4, stride=2, seed=0)(np.random.rand(2, 8, 16, 16, 3).astype("float32")).shape
    TensorShape([2, 4, 16, 16, 3])
    """

    def __init__(self, frames=4, stride=2, seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(frames) < 1 or int(stride) < 1:
            raise ValueError(f"frames and stride must be >= 1, got {frames} and {stride}.")
        self.frames, self.stride, self.seed = int(frames), int(stride), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, clips, training=True):
        span = (self.frames - 1) * self.stride + 1
        total = tf.shape(clips)[1]
        tf.debugging.assert_greater_equal(total, span, message="clips are shorter than frames x stride")
        batch = tf.shape(clips)[0]
        if training:
            u = keras.random.uniform((batch,), seed=self.seed_generator)
            starts = tf.cast(tf.floor(u * tf.cast(total - span + 1, tf.float32)), tf.int32)
        else:
            starts = tf.fill([batch], (total - span) // 2)
        index = starts[:, None] + self.stride * tf.range(self.frames)[None]
        return tf.gather(clips, index, batch_dims=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.frames, *input_shape[2:])

    def get_config(self):
        return {**super().get_config(), "frames": self.frames, "stride": self.stride, "seed": self.seed}


VIDEO_DEFAULTS = {"frames": 4, "stride": 2, "scale": PAPER_SCALE, "flip": True, "cutmix_alpha": 1.0,
                  "cutmix_pair": "permute", "cutmix_probability": 1.0}
"""The `video` policy's options (`build_video_policy` overrides)."""


def build_video_policy(seed=None, **overrides):
    """The video preset as one `keras.layers.Pipeline` on `(B, T, H, W, C)` clips in [0, 1].

    `ClipScaleCrop` -> `TemporalSample` -> `CutMix` (H x W, same box on all frames).

    Args:
        seed: seeds every random layer.
        **overrides: keys of `VIDEO_DEFAULTS`.

    Example:

    >>> import numpy as np
    >>> policy = build_video_policy(seed=0, frames=4, stride=2)
    >>> policy(np.random.rand(2, 8, 16, 16, 3).astype("float32")).shape
    TensorShape([2, 4, 16, 16, 3])
    """
    unknown = sorted(set(overrides) - set(VIDEO_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown video policy options {unknown}: valid keys are {sorted(VIDEO_DEFAULTS)}.")
    o = {**VIDEO_DEFAULTS, **overrides}
    layers = [ClipScaleCrop(o["scale"], flip=o["flip"], seed=seed),
              TemporalSample(o["frames"], o["stride"], seed=None if seed is None else seed + 1)]
    if o["cutmix_alpha"] > 0:
        layers.append(CutMix(o["cutmix_alpha"], pair=o["cutmix_pair"], probability=o["cutmix_probability"],
                             seed=None if seed is None else seed + 2))
    return keras.layers.Pipeline(layers, name="video_policy")
