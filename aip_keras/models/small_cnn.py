"""Small plain CNNs for CPU work: `small_cnn` (~0.29M parameters) and `tiny_cnn`.

Three stages of two 3x3 conv-BN-ReLU layers, 2x2 max-pool between stages,
global average pooling, linear logits. `small_cnn` (widths 32-64-128) is the
calibration network of the design notes: ~77 MFLOPs per 32x32 image.
`tiny_cnn` (widths 8-16-32, ~18k parameters) is for tests and 28 px
Fashion-MNIST students.
"""

import keras

from aip_keras.models.registry import BN_MOMENTUM, batch_norm, classifier, conv, image_input, register


def plain_cnn(
    widths,
    input_shape=(32, 32, 3),
    num_classes=10,
    convs_per_stage=2,
    weight_decay=0.0,
    mean="auto",
    std="auto",
    bn_momentum=BN_MOMENTUM,
    name="plain_cnn",
):
    """Builds a VGG-style CNN: per stage `convs_per_stage` conv-BN-ReLU, then max-pool.

    Args:
        widths: filters of each stage, e.g. `(32, 64, 128)`.
        input_shape: `(height, width, channels)` of [0, 1] images.
        num_classes: number of logits.
        convs_per_stage: conv layers per stage.
        weight_decay: PyTorch-style weight decay as an L2 loss on kernels (0 by default).
        mean: normalisation mean (see `registry.image_input`).
        std: normalisation standard deviation.
        bn_momentum: BatchNormalization momentum (Keras convention).
        name: model name.

    Returns:
        A functional `keras.Model` from [0, 1] images to logits.

    Example:

    >>> plain_cnn((8, 16), (28, 28, 1), 10).output_shape
    (None, 10)
    """
    widths = tuple(int(w) for w in widths)
    if not widths or min(widths) < 1:
        raise ValueError(f"widths must be positive filter counts, got {widths}: e.g. (32, 64, 128).")
    inputs, x = image_input(input_shape, mean, std)
    for stage, filters in enumerate(widths, start=1):
        if stage > 1:
            x = keras.layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
        for i in range(1, convs_per_stage + 1):
            x = conv(filters, 3, 1, weight_decay, name=f"stage{stage}_conv{i}")(x)
            x = batch_norm(f"stage{stage}_bn{i}", bn_momentum)(x)
            x = keras.layers.ReLU(name=f"stage{stage}_relu{i}")(x)
    outputs = classifier(x, num_classes, weight_decay)
    return keras.Model(inputs, outputs, name=name)


@register("small_cnn")
def small_cnn(input_shape=(32, 32, 3), num_classes=10, widths=(32, 64, 128), weight_decay=0.0, mean="auto", std="auto",
              bn_momentum=BN_MOMENTUM):
    """6 conv layers, widths 32-64-128, ~0.29M parameters; options as in `plain_cnn`."""
    return plain_cnn(widths, input_shape, num_classes, 2, weight_decay, mean, std, bn_momentum, name="small_cnn")


@register("tiny_cnn")
def tiny_cnn(input_shape=(32, 32, 3), num_classes=10, widths=(8, 16, 32), weight_decay=0.0, mean="auto", std="auto",
             bn_momentum=BN_MOMENTUM):
    """6 conv layers, widths 8-16-32, ~18k parameters; options as in `plain_cnn`."""
    return plain_cnn(widths, input_shape, num_classes, 2, weight_decay, mean, std, bn_momentum, name="tiny_cnn")
