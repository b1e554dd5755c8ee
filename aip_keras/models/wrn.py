"""Pre-activation Wide ResNets (Zagoruyko & Komodakis, 2016), `wrn{depth}_{width}`.

Depth `d = 6 n + 4`: a 3x3 stem conv with 16 filters, three stages of `n`
pre-activation basic blocks with `16 k`, `32 k`, `64 k` filters (strides 1, 2,
2), then BN-ReLU, global average pooling and a linear layer. As in the
reference code, a block whose shape changes takes its 1x1 projection shortcut
from the pre-activated input. Sizes with 10 classes: wrn16_4 2.75M parameters,
wrn40_4 8.97M, wrn28_10 36.5M.
"""

import keras

from aip_keras.models.registry import BN_MOMENTUM, batch_norm, classifier, conv, image_input, register


def _block(x, filters, strides, dropout, weight_decay, bn_momentum, name):
    equal = x.shape[-1] == filters and strides == 1
    o = keras.layers.ReLU(name=f"{name}_relu1")(batch_norm(f"{name}_bn1", bn_momentum)(x))
    shortcut = x if equal else conv(filters, 1, strides, weight_decay, name=f"{name}_shortcut")(o)
    y = conv(filters, 3, strides, weight_decay, name=f"{name}_conv1")(o)
    y = keras.layers.ReLU(name=f"{name}_relu2")(batch_norm(f"{name}_bn2", bn_momentum)(y))
    if dropout:
        y = keras.layers.Dropout(dropout, name=f"{name}_dropout")(y)
    y = conv(filters, 3, 1, weight_decay, name=f"{name}_conv2")(y)
    return keras.layers.Add(name=f"{name}_add")([shortcut, y])


def wide_resnet(
    depth,
    width,
    input_shape=(32, 32, 3),
    num_classes=10,
    dropout=0.0,
    weight_decay=0.0,
    mean="auto",
    std="auto",
    bn_momentum=BN_MOMENTUM,
    name=None,
):
    """Builds a pre-activation Wide ResNet WRN-depth-width.

    Args:
        depth: total depth, `6 n + 4` (16, 22, 28, 40, ...).
        width: widening factor k.
        input_shape: `(height, width, channels)` of [0, 1] images.
        num_classes: number of logits.
        dropout: dropout rate between the two convs of each block (0.3 in the
            WRN paper's dropout runs; 0 by default).
        weight_decay: PyTorch-style weight decay put on conv and dense kernels
            as an L2 loss (`L2(weight_decay / 2)`). Default 0: students in the
            paper's recipes are trained with Adam/AdamW without L2 losses; pass
            5e-4 (the WRN paper's value) for an SGD-trained teacher.
        mean: normalisation mean (see `registry.image_input`; "auto": CIFAR-10
            for RGB, Fashion-MNIST for grey; None: no normalisation).
        std: normalisation standard deviation, matching `mean`.
        bn_momentum: BatchNormalization momentum (Keras convention).
        name: model name; default `"wrn{depth}_{width}"`.

    Returns:
        A functional `keras.Model` from [0, 1] images to logits.

    Example:

    >>> model = wide_resnet(16, 1, input_shape=(32, 32, 3), num_classes=10)
    >>> model.name, model.output_shape
    ('wrn16_1', (None, 10))
    """
    if depth < 10 or (depth - 4) % 6:
        raise ValueError(f"Wide ResNet depth must be 6 n + 4 with n >= 1, got {depth}: use 16, 22, 28 or 40.")
    if width < 1:
        raise ValueError(f"Wide ResNet width must be >= 1, got {width}: use e.g. 1, 2, 4, 10.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}: pass a rate.")
    n = (depth - 4) // 6
    inputs, x = image_input(input_shape, mean, std)
    x = conv(16, 3, 1, weight_decay, name="stem_conv")(x)
    for stage, (filters, strides) in enumerate(zip((16 * width, 32 * width, 64 * width), (1, 2, 2)), start=1):
        for i in range(n):
            x = _block(
                x, filters, strides if i == 0 else 1, dropout, weight_decay, bn_momentum, name=f"stage{stage}_block{i + 1}"
            )
    x = keras.layers.ReLU(name="final_relu")(batch_norm("final_bn", bn_momentum)(x))
    outputs = classifier(x, num_classes, weight_decay)
    return keras.Model(inputs, outputs, name=name or f"wrn{depth}_{width}")


def _registered(depth, width):
    name = f"wrn{depth}_{width}"

    def constructor(input_shape=(32, 32, 3), num_classes=10, dropout=0.0, weight_decay=0.0, mean="auto", std="auto",
                    bn_momentum=BN_MOMENTUM):
        return wide_resnet(
            depth, width, input_shape, num_classes, dropout, weight_decay, mean, std, bn_momentum, name=name
        )

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = f"WRN-{depth}-{width}; options as in `wide_resnet`."
    globals()[name] = register(name)(constructor)


for _depth, _width in ((16, 1), (16, 2), (16, 4), (16, 8), (28, 10), (40, 1), (40, 2), (40, 4)):
    _registered(_depth, _width)
