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

__all__ = [
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
