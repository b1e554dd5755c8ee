"""What a model expects as input, and the layer that converts to it.

Every stage of aip_keras passes images as float32, channels-last, with values in
[0, 1]. Teachers and students may want something else (another size, 0-255
values, ImageNet mean/std, one grey channel); `InputSpec` describes that and,
being a Keras layer, converts a [0, 1] batch into it. The Distiller gives the
teacher and the student each its own view of the same augmented batch this way.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="aip_keras")
class InputSpec(keras.layers.Layer):
    """Converts a [0, 1] image batch into what one model expects.

    Steps, in order: resize to `size` (if given and different), convert the
    number of channels (RGB to grey by luma, grey to RGB by repetition), scale
    [0, 1] to `value_range`, then `(x - mean) / std`.

    Args:
        size: `(height, width)` the model expects, or None to keep the size.
        channels: 1 or 3, or None to keep the channels.
        value_range: `(low, high)` the model's pixel values span.
        mean: per-channel mean subtracted after scaling, or None.
        std: per-channel standard deviation divided after the mean, or None.
        interpolation: resize method (`"bilinear"`, `"bicubic"`, ...).

    Example:

    >>> import numpy as np
    >>> spec = InputSpec(size=(8, 8), value_range=(0, 255))
    >>> spec(np.ones((2, 4, 4, 3), "float32")).shape
    TensorShape([2, 8, 8, 3])
    """

    def __init__(
        self,
        size=None,
        channels=None,
        value_range=(0.0, 1.0),
        mean=None,
        std=None,
        interpolation="bilinear",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if size is not None:
            size = tuple(int(s) for s in size)
            if len(size) != 2 or min(size) < 1:
                raise ValueError(
                    f"InputSpec size must be (height, width) of positive ints, got {size}."
                )
        if channels not in (None, 1, 3):
            raise ValueError(f"InputSpec channels must be 1, 3 or None, got {channels}.")
        low, high = (float(v) for v in value_range)
        if not high > low:
            raise ValueError(f"InputSpec value_range must be (low, high) with high > low, got {value_range}.")
        if (mean is None) != (std is None):
            raise ValueError("InputSpec needs both mean and std, or neither.")
        if std is not None and min(_as_list(std)) <= 0:
            raise ValueError(f"InputSpec std must be positive, got {std}.")
        self.size = size
        self.channels = channels
        self.value_range = (low, high)
        self.mean = _as_list(mean)
        self.std = _as_list(std)
        self.interpolation = interpolation
        self.built = True  # no weights

    @property
    def is_identity(self):
        """True if the layer never changes its input."""
        return (
            self.size is None
            and self.channels is None
            and self.value_range == (0.0, 1.0)
            and self.mean is None
        )

    def call(self, images):
        x = ops.cast(images, "float32")
        if self.size is not None and tuple(x.shape[-3:-1]) != self.size:
            x = ops.image.resize(x, self.size, interpolation=self.interpolation)
            x = ops.clip(x, 0.0, 1.0)
        if self.channels is not None and x.shape[-1] != self.channels:
            if self.channels == 1:
                x = ops.image.rgb_to_grayscale(x)
            else:
                x = ops.repeat(x, 3, axis=-1)
        low, high = self.value_range
        if (low, high) != (0.0, 1.0):
            x = x * (high - low) + low
        if self.mean is not None:
            x = (x - ops.convert_to_tensor(self.mean)) / ops.convert_to_tensor(self.std)
        return x

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if self.size is not None:
            shape[-3:-1] = self.size
        if self.channels is not None:
            shape[-1] = self.channels
        return tuple(shape)

    def input_shape_for(self, source_shape):
        """The (H, W, C) the model sees when fed `source_shape` images."""
        return self.compute_output_shape((None, *source_shape))[1:]

    def get_config(self):
        config = super().get_config()
        config.update(
            size=self.size,
            channels=self.channels,
            value_range=self.value_range,
            mean=self.mean,
            std=self.std,
            interpolation=self.interpolation,
        )
        return config

    def to_dict(self):
        """The spec alone, as plain JSON-able values (for run metadata)."""
        return {
            "size": list(self.size) if self.size else None,
            "channels": self.channels,
            "value_range": list(self.value_range),
            "mean": self.mean,
            "std": self.std,
            "interpolation": self.interpolation,
        }


def _as_list(values):
    if values is None:
        return None
    if isinstance(values, (int, float)):
        return [float(values)]
    return [float(v) for v in values]


def spec_for_model(model):
    """The identity-plus-size spec of a model that takes [0, 1] images.

    All models built by `aip_keras.models` and `aip train-teacher` take [0, 1]
    images and normalise inside, so only their size and channels matter.
    """
    shape = model.input_shape
    if isinstance(shape, list):
        raise ValueError(
            f"Model {model.name!r} has {len(shape)} inputs; a classifier with one image input is needed."
        )
    if len(shape) != 4:
        raise ValueError(
            f"Model {model.name!r} takes inputs of shape {shape}; an image classifier "
            "taking (batch, height, width, channels) is needed."
        )
    _, height, width, channels = shape
    size = (height, width) if height and width else None
    return InputSpec(size=size, channels=channels)
