"""Batch-level augmentation of distillation inputs (images only, no labels).

`build_policy(name, image_size, seed)` gives the paper's online recipes
(`"cifar"`, `"imagenet"`, `"none"`) as one Keras layer; `apply_policy` maps it
over a batched `tf.data` dataset; `build_video_policy` is the video preset for
`(B, T, H, W, C)` clips. `CutMix` and `MixUp` mix images only, one
box / one weight per batch. Everything keeps values in [0, 1]; normalisation
lives in the models.

    import numpy as np
    from aip_keras import augment
    policy = augment.build_policy("cifar", 32, seed=0)
    batch = policy(np.random.rand(8, 32, 32, 3).astype("float32"))
"""

from aip_keras.augment.cutmix import CutMix, MixUp
from aip_keras.augment.presets import (
    PRESETS,
    ColorJitter,
    RandomGrayscale,
    RandomPadCrop,
    RandomResizedCrop,
    RandomSolarize,
    apply_policy,
    build_policy,
)
from aip_keras.augment.video import VIDEO_DEFAULTS, ClipScaleCrop, TemporalSample, build_video_policy

__all__ = [
    "PRESETS",
    "ColorJitter",
    "CutMix",
    "MixUp",
    "RandomGrayscale",
    "RandomPadCrop",
    "RandomResizedCrop",
    "RandomSolarize",
    "apply_policy",
    "build_policy",
    "VIDEO_DEFAULTS",
    "ClipScaleCrop",
    "TemporalSample",
    "build_video_policy",
]
