"""Single-datum sources: one image (audio, video) -> an endless tf.data stream of crops."""

from aip_keras.sources.image import (
    PHOTOS,
    PatchChain,
    SingleImageSource,
    load_image,
    patch_bank,
    patch_bank_dataset,
    patch_chain,
    patches_per_epoch,
    sample_crop_boxes,
    single_image_dataset,
)
from aip_keras.sources import audio  # noqa: F401  (also registers the LogMel / SpecAugment layers)
from aip_keras.sources.audio import (
    AudioChain,
    LogMel,
    SingleClipSource,
    SpecAugment,
    concatenate_clips,
    load_clip,
    single_clip_dataset,
)

__all__ = [
    "AudioChain",
    "LogMel",
    "SingleClipSource",
    "SpecAugment",
    "concatenate_clips",
    "load_clip",
    "single_clip_dataset",
    "PHOTOS",
    "PatchChain",
    "SingleImageSource",
    "load_image",
    "patch_bank",
    "patch_bank_dataset",
    "patch_chain",
    "patches_per_epoch",
    "sample_crop_boxes",
    "single_image_dataset",
]
