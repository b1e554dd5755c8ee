"""Student and reference-teacher architectures, built by registry name.

Every model takes float32 images in [0, 1] (channels-last, grey or RGB),
normalises them inside with a standard `keras.layers.Normalization` (default
`mean="auto"`: CIFAR-10 statistics for RGB, Fashion-MNIST for grey; `None`
switches it off) and returns logits. They are plain functional models: save to
`.keras`, load with `safe_mode=True`, no custom objects.

    from aip_keras import models
    student = models.build("wrn16_4", (32, 32, 3), 10)
    models.list_models("wrn*")

Generic builders: `wide_resnet(depth, width, ...)`, `resnet.resnet(block,
blocks_per_stage, ...)`, `plain_cnn(widths, ...)`.
"""

from aip_keras.models import resnet, small_cnn, wrn  # noqa: F401  (fill the registry)
from aip_keras.models import audio  # noqa: F401  (audio_cnn, audio_efficientnet_b0)
from aip_keras.models import video  # noqa: F401  (video_cnn, x3d, x3d_xs, x3d_s)
from aip_keras.models.registry import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    build,
    image_input,
    list_models,
    register,
)
from aip_keras.models.small_cnn import plain_cnn
from aip_keras.models.wrn import wide_resnet

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "FASHION_MNIST_MEAN",
    "FASHION_MNIST_STD",
    "build",
    "image_input",
    "list_models",
    "plain_cnn",
    "register",
    "wide_resnet",
]
