"""Single-datum sources: one image (audio, video) -> an endless tf.data stream of crops.

Modules: `image` (patch streams, banks, `SingleImageSource`), `image_chain`
(`PatchChain`, the per-patch augmentation, and the image stream seeds),
`audio` (`AudioChain`, `SingleClipSource`), `audio_ops` (the batched waveform
augmentations), `video` (fake clips of one image, windows of one video).
Files are decoded by `aip_keras.decode`; `load_image`, `load_clip` and
`concatenate_clips` are re-exported here for convenience.
"""

from aip_keras.decode.audio import concatenate_clips, load_clip
from aip_keras.decode.image import PHOTOS, load_image
from aip_keras.sources.audio import AudioChain, SingleClipSource, single_clip_dataset
from aip_keras.sources.image import (
    SingleImageSource,
    patch_bank,
    patch_bank_dataset,
    patch_chain,
    patches_per_epoch,
    sample_crop_boxes,
    single_image_dataset,
)
from aip_keras.sources.image_chain import PatchChain

__all__ = [
    "AudioChain",
    "SingleClipSource",
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
