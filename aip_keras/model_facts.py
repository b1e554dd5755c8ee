"""What a built Keras classifier is: its output kind, classes, input kind and audio format.

Read-only questions about a `keras.Model`, asked by the Distiller, the loader,
evaluation and the zoo alike. Sits low in the package: it imports only the
audio front end (to find a model's sample rate).
"""

import keras

from aip_keras.front_end import DEFAULT_SAMPLE_RATE, LogMel

MODALITY_BY_RANK = {2: "audio", 4: "image", 5: "video"}  # input rank (batch included) -> modality


def _safe(fn):
    try:
        return fn()
    except (AttributeError, ValueError):
        return None


def final_layer(model):
    """The layer that produces the output, looking inside nested models."""
    layer = model
    for _ in range(100):
        if not isinstance(layer, keras.Model):
            return layer
        outputs = _safe(lambda: layer.outputs)
        if outputs:
            history = getattr(outputs[0], "_keras_history", None)
            inner = history[0] if history else None
        else:
            inner = layer.layers[-1] if getattr(layer, "layers", None) else None
        if inner is None or inner is layer:
            return layer
        layer = inner
    return layer


def output_kind(model):
    """Whether a classifier outputs `"probabilities"` (a final softmax) or `"logits"`.

    A final `keras.layers.Softmax`, a final layer with `activation="softmax"`, or
    an `Activation("softmax")` means probabilities; anything else logits.

    Example:

    >>> import keras
    >>> inputs = keras.Input((4,))
    >>> output_kind(keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs)))
    'probabilities'
    """
    layer = final_layer(model)
    if isinstance(layer, keras.layers.Softmax):
        return "probabilities"
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None) or (activation if isinstance(activation, str) else "")
    return "probabilities" if name == "softmax" else "logits"


def num_classes(model, role="model"):
    """The class count of a `(batch, classes)` classifier; a one-line ValueError otherwise."""
    shape = _safe(lambda: model.output_shape)
    if shape is None or isinstance(shape, list) or len(shape) != 2 or not shape[-1]:
        raise ValueError(
            f"{role} {model.name!r} outputs shape {shape}, not a (batch, classes) vector: "
            "pass a classifier (add pooling and a Dense head to a feature extractor)."
        )
    return int(shape[-1])


def input_modality(model):
    """`"image"`, `"audio"` or `"video"` from the rank of the model's one input (None: other)."""
    inputs = _safe(lambda: model.inputs)
    if not inputs or len(inputs) != 1:
        return None
    return MODALITY_BY_RANK.get(len(inputs[0].shape))


def check_classifier(model, role="teacher"):
    """Raises a one-line ValueError unless `model` is a one-input classifier of images, clips or waveforms."""
    name = model.name
    inputs = _safe(lambda: model.inputs)
    if not inputs:
        raise ValueError(
            f"{role} {name!r} has no defined input (a subclassed or unbuilt model): "
            "build it on keras.Input(shape=(height, width, channels))."
        )
    if len(inputs) != 1:
        raise ValueError(f"{role} {name!r} has {len(inputs)} inputs: a classifier with one input is needed.")
    if input_modality(model) is None:
        raise ValueError(
            f"{role} {name!r} takes inputs of shape {tuple(inputs[0].shape)}: an image classifier taking "
            "(batch, height, width, channels), a video classifier taking (batch, frames, height, width, "
            "channels) or an audio classifier taking (batch, samples) is needed."
        )
    outputs = model.outputs
    if len(outputs) != 1:
        raise ValueError(
            f"{role} {name!r} has {len(outputs)} outputs: a classifier with one class-vector output is needed."
        )
    shape = tuple(outputs[0].shape)
    if len(shape) != 2 or not shape[-1]:
        raise ValueError(
            f"{role} {name!r} outputs shape {shape}, not a class vector (batch, classes): "
            "pass a classifier (e.g. add pooling and a Dense(num_classes) head)."
        )


def all_layers(model):
    """Every layer of `model`, nested models' layers included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def audio_format(model, default_sample_rate=DEFAULT_SAMPLE_RATE):
    """What a waveform classifier takes: `{"sample_rate": int, "samples": int or None}`.

    The rate is read from the model's (first) `LogMel` layer, else
    `default_sample_rate`; `samples` is the fixed input length, if any.

    Raises:
        ValueError: the model does not take one `(batch, samples)` input or
            does not output `(batch, classes)`.
    """
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise ValueError(
            f"model {model.name!r} has {len(inputs or [])} inputs: an audio classifier with one "
            "(batch, samples) waveform input is needed."
        )
    shape = tuple(inputs[0].shape)
    if len(shape) != 2:
        raise ValueError(
            f"model {model.name!r} takes inputs of shape {shape}, not raw waveforms (batch, samples): pass an "
            "audio model (aip train-teacher --modality=audio), or use --modality=image for image models."
        )
    out = tuple(model.outputs[0].shape) if len(model.outputs) == 1 else None
    if out is None or len(out) != 2 or not out[-1]:
        raise ValueError(
            f"model {model.name!r} outputs {[tuple(o.shape) for o in model.outputs]}, not one class vector "
            "(batch, classes): pass a classifier."
        )
    rate = default_sample_rate
    for layer in all_layers(model):
        if isinstance(layer, LogMel):
            rate = layer.sample_rate
            break
    return {"sample_rate": int(rate), "samples": shape[1]}
