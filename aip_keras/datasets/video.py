"""Labelled video sets: `cifar10_clips`, a proxy video task built from real CIFAR-10 images.

`load_video_set(name, split, frames=, clip_size=)` returns a `LabelledSet`
whose `x` batches are clips `(B, frames, clip_size, clip_size, 3)` in [0, 1].
No Kinetics or UCF101 is reachable offline; each CIFAR-10 image becomes a clip
by a smooth camera move over it (`aip_keras.sources.video.ClipChain`, seeded
per image so every pass sees the same clip).
"""

import dataclasses

import numpy as np
import tensorflow as tf

from aip_keras.datasets.base import ArraySource
from aip_keras.datasets.image import load_cifar10
from aip_keras.sources.image_chain import element_seed
from aip_keras.sources.video import ClipChain

VIDEO_SETS = ("cifar10_clips",)
# The CIFAR-10 clips' camera move: the whole 32 px image as the square, two boxes of 40-100% of its
# area (a mild pan/zoom that keeps the object in view), no colour jitter; fixed per image.
CIFAR_CLIPS_CHAIN = {"initial_crop": 1.0, "min_area": 0.4, "max_area": 1.0, "jitter_p": 0.0}
CIFAR_CLIPS_SEED = 20230501


class ClipSource:
    """Each image of an `ArraySource` becomes a clip by a smooth camera move, the same on every pass."""

    def __init__(self, base, frames, clip_size):
        self.base = base
        self.chain = ClipChain(clip_size=clip_size, frames=frames, **CIFAR_CLIPS_CHAIN)

    def __len__(self):
        return len(self.base)

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        if image_size is not None:
            raise ValueError("video sets take clip_size in load_video_set(), not image_size.")
        images, labels = self.base.tensors()
        chain = self.chain
        ds = tf.data.Dataset.from_tensor_slices(indices.astype(np.int64))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)

        def clip(i):
            return chain(tf.gather(images, i), element_seed(CIFAR_CLIPS_SEED, i)), tf.gather(labels, i)

        ds = ds.map(clip, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size)


def load_video_set(name="cifar10_clips", split="test", frames=8, clip_size=32, data_dir=None):
    """A labelled video set; `x` batches are clips `(B, frames, clip_size, clip_size, 3)` in [0, 1].

    `"cifar10_clips"`: a proxy video task built from real images (no Kinetics
    or UCF101 is reachable offline). Each CIFAR-10 image becomes a clip by a
    smooth camera move over it (two boxes of 40-100% of its area, linearly
    interpolated over the frames, as in the fake-video source), labelled with
    the image's class; train from CIFAR-10's train split, test from its test
    split. What it tests: temporal models, clip pipelines and multi-clip
    evaluation on real image content; what it does not: real motion or
    actions, the point of Kinetics.

    Example:

    >>> clips = load_video_set("cifar10_clips", split="test", frames=4, clip_size=16)
    >>> x, y = next(iter(clips.dataset(2)))
    >>> x.shape
    TensorShape([2, 4, 16, 16, 3])
    """
    if name not in VIDEO_SETS:
        raise ValueError(f"unknown video dataset {name!r}: use one of {list(VIDEO_SETS)}.")
    images = load_cifar10(split, data_dir)
    if not isinstance(images.examples, ArraySource):
        raise ValueError("cifar10_clips needs the CIFAR-10 JPEG tar (../shared/data or AIP_SHARED_DATA), not tfds.")
    return dataclasses.replace(images, name=name, image_shape=(int(frames), int(clip_size), int(clip_size), 3),
                               examples=ClipSource(images.examples, int(frames), int(clip_size)))
