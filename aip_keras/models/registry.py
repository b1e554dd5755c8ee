"""A timm-style registry of model constructors, and the input block they share.

Every registered constructor is a plain function
`fn(input_shape=(32, 32, 3), num_classes=10, **options) -> keras.Model` that
returns a functional model made of standard Keras layers only: it takes
float32 images in [0, 1], normalises them inside (a `keras.layers.Normalization`
with fixed mean and variance, or nothing), and outputs logits (no softmax).
The model's name is its registry name, so it saves to `.keras` and loads with
`safe_mode=True` and no custom objects.
"""

import fnmatch
import inspect

import keras

_REGISTRY = {}

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
FASHION_MNIST_MEAN = (0.2860,)
FASHION_MNIST_STD = (0.3530,)

# Keras BatchNormalization defaults are momentum 0.99, epsilon 1e-3; the paper's
# (PyTorch) models use momentum 0.1 in torch terms (0.9 here) and epsilon 1e-5.
# 0.9 also lets the moving statistics catch up within minutes of CPU training.
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-5


def register(name):
    """Decorator adding a constructor to the registry under `name`.

    Args:
        name: the registry name, also used as the built model's name.

    Returns:
        The decorator; it returns the function unchanged.

    Example:

    >>> @register("my_mlp")
    ... def my_mlp(input_shape=(32, 32, 3), num_classes=10):
    ...     inputs = keras.Input(input_shape)
    ...     outputs = keras.layers.Dense(num_classes)(keras.layers.Flatten()(inputs))
    ...     return keras.Model(inputs, outputs, name="my_mlp")
    >>> "my_mlp" in list_models()
    True
    """

    def decorator(fn):
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"Model name {name!r} is already registered: pick another name.")
        _REGISTRY[name] = fn
        return fn

    return decorator


def list_models(pattern=None):
    """Sorted registry names, optionally filtered by a shell pattern such as `"wrn*"`."""
    names = sorted(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    return names


def build(name, input_shape, num_classes, **kwargs):
    """Builds a registered model.

    Args:
        name: registry name (see `list_models()`).
        input_shape: `(height, width, channels)`, channels 1 (grey) or 3 (RGB).
        num_classes: number of logits.
        **kwargs: the constructor's options (`mean`, `std`, `weight_decay`, ...).

    Returns:
        A functional `keras.Model` named `name`, [0, 1] images in, logits out.

    Example:

    >>> model = build("tiny_cnn", (28, 28, 1), 10)
    >>> model.output_shape
    (None, 10)
    """
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model {name!r}: choose one of {list_models()}.")
    fn = _REGISTRY[name]
    params = inspect.signature(fn).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            valid = sorted(set(params) - {"input_shape", "num_classes"})
            raise ValueError(f"Unknown option(s) {unknown} for model {name!r}: valid options are {valid}.")
    return fn(input_shape=input_shape, num_classes=num_classes, **kwargs)


def is_audio_model(name):
    """True if registry model `name` builds a waveform classifier (its constructor takes `sample_rate`)."""
    fn = _REGISTRY.get(name)
    return fn is not None and "sample_rate" in inspect.signature(fn).parameters


def _channel_values(values, channels, what):
    if isinstance(values, (int, float)):
        return [float(values)] * channels
    values = [float(v) for v in values]
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise ValueError(f"{what} has {len(values)} values for {channels} channels: pass one value or one per channel.")
    return values


def image_input(input_shape, mean="auto", std="auto"):
    """The shared input block: `keras.Input` plus optional fixed normalisation.

    Args:
        input_shape: `(height, width, channels)`; height/width may be None.
        mean: per-channel mean of [0, 1] images, a scalar, None (no
            normalisation) or `"auto"`: CIFAR-10 statistics for 3 channels,
            Fashion-MNIST statistics for 1 channel.
        std: per-channel standard deviation, matching `mean`.

    Returns:
        `(inputs, x)`: the `keras.Input` and the normalised tensor.
    """
    shape = tuple(input_shape)
    if len(shape) != 3 or not isinstance(shape[-1], int) or shape[-1] < 1:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}: e.g. (32, 32, 3).")
    for side in shape[:2]:
        if side is not None and (not isinstance(side, int) or side < 8):
            raise ValueError(f"input_shape {input_shape} is too small or not integer: use sides of at least 8 pixels.")
    return normalized(keras.Input(shape, name="image"), mean, std)


def normalized(inputs, mean="auto", std="auto"):
    """`(inputs, x)` with `x` the inputs normalised by a fixed `keras.layers.Normalization` over the last axis.

    `mean` / `std` as in `image_input` (`"auto"`: CIFAR-10 statistics for 3
    channels, Fashion-MNIST for 1; None: no normalisation). Shared by the image
    and video input blocks.
    """
    channels = inputs.shape[-1]
    if (mean is None) != (std is None):
        raise ValueError("mean and std must both be given or both be None: pass both or neither.")
    if isinstance(mean, str) or isinstance(std, str):
        if mean != "auto" or std != "auto":
            raise ValueError(f"mean/std accept numbers, None or 'auto', got {mean!r}/{std!r}: pass 'auto' for both.")
        if channels == 3:
            mean, std = CIFAR10_MEAN, CIFAR10_STD
        elif channels == 1:
            mean, std = FASHION_MNIST_MEAN, FASHION_MNIST_STD
        else:
            raise ValueError(f"No default mean/std for {channels} channels: pass mean and std, or None.")
    if mean is None:
        return inputs, inputs
    mean = _channel_values(mean, channels, "mean")
    std = _channel_values(std, channels, "std")
    if min(std) <= 0:
        raise ValueError(f"std must be positive, got {std}: pass positive standard deviations.")
    variance = [s * s for s in std]
    x = keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name="normalize")(inputs)
    return inputs, x


def l2(weight_decay):
    """Kernel regulariser for a PyTorch-style weight decay coefficient (None if 0).

    Keras `L2(l)` adds `l * sum(w**2)` (gradient `2 l w`); SGD weight decay `wd`
    adds `wd * w`, hence `l = wd / 2`.
    """
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}: pass 0 to disable it.")
    return keras.regularizers.L2(weight_decay / 2) if weight_decay else None


def batch_norm(name, momentum=BN_MOMENTUM):
    return keras.layers.BatchNormalization(momentum=momentum, epsilon=BN_EPSILON, name=name)


def conv(filters, kernel_size, strides=1, weight_decay=0.0, name=None):
    """Bias-free conv; strided k x k convs pad k // 2 each side like PyTorch, not 'same'."""
    torch_pad = strides > 1 and kernel_size > 1
    layer = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="valid" if torch_pad else "same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=l2(weight_decay),
        name=name,
    )
    if not torch_pad:
        return layer

    def apply(x):
        return layer(keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad" if name else None)(x))

    return apply


def classifier(x, num_classes, weight_decay=0.0, name="logits"):
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.layers.Dense(num_classes, kernel_regularizer=l2(weight_decay), name=name)(x)
