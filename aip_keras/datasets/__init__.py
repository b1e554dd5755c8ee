"""Real labelled sets, for judging a distilled student against its teacher (and training teachers).

`load(name, split)` returns a `LabelledSet`: its metadata (classes, shape,
size) and `.dataset()` / `.arrays()` giving `(x, y)` with `y` int32 class ids.

- images (`image`): `"cifar10"` (the shared JPEG tar, decoded once into the
  cache; else tfds), `"fashion_mnist"` (IDX files: `data_dir`, Debian's
  package, else the bundled test split), `"tfds:<name>"`, a folder of class
  sub-folders; x float32 `(B, H, W, C)` in [0, 1];
- audio (`audio`): `load_audio("fsdd" | "tfds:<name>" | folder, sample_rate=,
  clip_seconds=)`, x float32 `(B, samples)` waveforms in [-1, 1];
- video (`video`): `load_video_set("cifar10_clips", frames=, clip_size=)`,
  x float32 `(B, T, S, S, 3)`.

`base` holds `LabelledSet`, the example stores, `split_validation` and the
caches; `catalog` dispatches a name to its modality. Nothing here waits on a
network that is not there: downloads are attempted only after a 3-second
reachability check, and fail with a one-line `ValueError`.
"""

from aip_keras.datasets.audio import FSDD_CLASSES, FSDD_TAR, AudioLabelledSet, load_audio
from aip_keras.datasets.base import PACKAGE_DIR, LabelledSet, shared_data_dir, split_validation
from aip_keras.datasets.catalog import load
from aip_keras.datasets.image import (
    BUNDLED_FASHION_MNIST,
    CIFAR10_CLASSES,
    CIFAR10_TAR,
    DEBIAN_FASHION_MNIST,
    FASHION_MNIST_CLASSES,
    IMAGE_EXTENSIONS,
    read_idx,
)
from aip_keras.datasets.video import VIDEO_SETS, load_video_set

__all__ = [
    "AudioLabelledSet",
    "BUNDLED_FASHION_MNIST",
    "CIFAR10_CLASSES",
    "CIFAR10_TAR",
    "DEBIAN_FASHION_MNIST",
    "FASHION_MNIST_CLASSES",
    "FSDD_CLASSES",
    "FSDD_TAR",
    "IMAGE_EXTENSIONS",
    "LabelledSet",
    "PACKAGE_DIR",
    "VIDEO_SETS",
    "load",
    "load_audio",
    "load_video_set",
    "read_idx",
    "shared_data_dir",
    "split_validation",
]
