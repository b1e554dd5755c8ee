"""ResNet-18 and ResNet-50 (He et al., 2016; torchvision v1.5 layout).

`stem="cifar"`: a 3x3 stride-1 conv, no max-pool (for small images);
`stem="imagenet"`: 7x7 stride-2 conv + 3x3 stride-2 max-pool. Default: cifar
below 64 pixels, imagenet otherwise. Bottleneck blocks stride in their 3x3
conv; projection shortcuts are 1x1 conv + BN. With 10 classes:
resnet18 (cifar stem) 11.17M parameters, resnet50 23.5M + the classifier.
"""

import keras

from aip_keras.models.registry import BN_MOMENTUM, batch_norm, classifier, conv, image_input, register

_STEMS = ("cifar", "imagenet")


def _basic(x, filters, strides, weight_decay, bn_momentum, name):
    y = conv(filters, 3, strides, weight_decay, name=f"{name}_conv1")(x)
    y = keras.layers.ReLU(name=f"{name}_relu1")(batch_norm(f"{name}_bn1", bn_momentum)(y))
    y = conv(filters, 3, 1, weight_decay, name=f"{name}_conv2")(y)
    y = batch_norm(f"{name}_bn2", bn_momentum)(y)
    return _merge(x, y, filters, strides, weight_decay, bn_momentum, name)


def _bottleneck(x, filters, strides, weight_decay, bn_momentum, name):
    y = conv(filters, 1, 1, weight_decay, name=f"{name}_conv1")(x)
    y = keras.layers.ReLU(name=f"{name}_relu1")(batch_norm(f"{name}_bn1", bn_momentum)(y))
    y = conv(filters, 3, strides, weight_decay, name=f"{name}_conv2")(y)
    y = keras.layers.ReLU(name=f"{name}_relu2")(batch_norm(f"{name}_bn2", bn_momentum)(y))
    y = conv(4 * filters, 1, 1, weight_decay, name=f"{name}_conv3")(y)
    y = batch_norm(f"{name}_bn3", bn_momentum)(y)
    return _merge(x, y, 4 * filters, strides, weight_decay, bn_momentum, name)


def _merge(x, y, filters, strides, weight_decay, bn_momentum, name):
    if x.shape[-1] != filters or strides != 1:
        x = conv(filters, 1, strides, weight_decay, name=f"{name}_shortcut")(x)
        x = batch_norm(f"{name}_shortcut_bn", bn_momentum)(x)
    return keras.layers.ReLU(name=f"{name}_out")(keras.layers.Add(name=f"{name}_add")([x, y]))


def resnet(
    block,
    blocks_per_stage,
    input_shape=(32, 32, 3),
    num_classes=10,
    stem=None,
    weight_decay=0.0,
    mean="auto",
    std="auto",
    bn_momentum=BN_MOMENTUM,
    name="resnet",
):
    """Builds a ResNet from `"basic"` or `"bottleneck"` blocks.

    Args:
        block: `"basic"` (ResNet-18/34) or `"bottleneck"` (ResNet-50/101).
        blocks_per_stage: blocks in each of the 4 stages, e.g. `(2, 2, 2, 2)`.
        input_shape: `(height, width, channels)` of [0, 1] images.
        num_classes: number of logits.
        stem: `"cifar"`, `"imagenet"` or None (cifar if the smaller side < 64).
        weight_decay: PyTorch-style weight decay as an L2 loss on kernels (0 by
            default; see `wide_resnet`).
        mean: normalisation mean (see `registry.image_input`).
        std: normalisation standard deviation.
        bn_momentum: BatchNormalization momentum (Keras convention).
        name: model name.

    Returns:
        A functional `keras.Model` from [0, 1] images to logits.

    Example:

    >>> model = resnet("basic", (1, 1, 1, 1), (32, 32, 3), 10, name="resnet10")
    >>> model.output_shape
    (None, 10)
    """
    blocks = {"basic": _basic, "bottleneck": _bottleneck}
    if block not in blocks:
        raise ValueError(f"ResNet block must be 'basic' or 'bottleneck', got {block!r}: pick one.")
    if stem is None:
        sides = [s for s in tuple(input_shape)[:2] if s is not None]
        stem = "cifar" if sides and min(sides) < 64 else "imagenet"
    if stem not in _STEMS:
        raise ValueError(f"ResNet stem must be one of {_STEMS} or None, got {stem!r}: pick one.")
    inputs, x = image_input(input_shape, mean, std)
    if stem == "cifar":
        x = conv(64, 3, 1, weight_decay, name="stem_conv")(x)
    else:
        x = conv(64, 7, 2, weight_decay, name="stem_conv")(x)
    x = keras.layers.ReLU(name="stem_relu")(batch_norm("stem_bn", bn_momentum)(x))
    if stem == "imagenet":
        # Zero padding equals PyTorch's -inf padding here: the input is post-ReLU.
        x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
        x = keras.layers.MaxPooling2D(3, 2, name="stem_pool")(x)
    for stage, (count, filters) in enumerate(zip(blocks_per_stage, (64, 128, 256, 512)), start=1):
        for i in range(count):
            strides = 2 if i == 0 and stage > 1 else 1
            x = blocks[block](x, filters, strides, weight_decay, bn_momentum, name=f"stage{stage}_block{i + 1}")
    outputs = classifier(x, num_classes, weight_decay)
    return keras.Model(inputs, outputs, name=name)


@register("resnet18")
def resnet18(input_shape=(32, 32, 3), num_classes=10, stem=None, weight_decay=0.0, mean="auto", std="auto",
             bn_momentum=BN_MOMENTUM):
    """ResNet-18 (basic blocks 2-2-2-2); options as in `resnet`."""
    return resnet("basic", (2, 2, 2, 2), input_shape, num_classes, stem, weight_decay, mean, std, bn_momentum,
                  name="resnet18")


@register("resnet50")
def resnet50(input_shape=(32, 32, 3), num_classes=10, stem=None, weight_decay=0.0, mean="auto", std="auto",
             bn_momentum=BN_MOMENTUM):
    """ResNet-50 (bottleneck blocks 3-4-6-3); options as in `resnet`."""
    return resnet("bottleneck", (3, 4, 6, 3), input_shape, num_classes, stem, weight_decay, mean, std, bn_momentum,
                  name="resnet50")
