"""Every labelled-set name -> its loader: `load` for image, audio (`fsdd`) and video (`cifar10_clips`) names.

The one entry point that reads a name without knowing its modality (what
`aip evaluate --eval=...` and the jobs call); each modality module also has
its own loader with that modality's options (`image.load`,
`audio.load_audio`, `video.load_video_set`).
"""

from aip_keras.datasets import audio, image, video
from aip_keras.datasets.base import dataset_name


def load(name, split="test", data_dir=None, image_size=None):
    """Loads a real labelled set by name (see `aip_keras.datasets.image.load` for the arguments).

    Image names (`"cifar10"`, `"fashion_mnist"`, `"tfds:<name>"`, a folder)
    give a `LabelledSet`; `"fsdd"` gives an `AudioLabelledSet` of 1 s at
    16 kHz (`load_audio` takes another rate or length); `"cifar10_clips"` gives
    clips of 8 frames of 32 px (`load_video_set` takes other sizes).

    Example:

    >>> load("fashion_mnist").image_shape
    (28, 28, 1)
    """
    image_size = image.check_image_size(image_size)
    text = dataset_name(name, image.VALID_NAMES)
    if text == "fsdd":
        return audio.load_audio(text, split=split, data_dir=data_dir)
    if text in video.VIDEO_SETS:
        return video.load_video_set(text, split=split, data_dir=data_dir)
    return image.load(text, split=split, data_dir=data_dir, image_size=image_size)
