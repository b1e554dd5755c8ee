"""Audio classifiers on raw waveforms: the `LogMel` front end + a CNN, by registry name.

Every audio model takes float32 waveforms `(batch, samples)` in [-1, 1] at its
`sample_rate` and returns logits. Inside: `LogMel` (log-mel dB, 25 ms / 10 ms /
64 bins by default) -> per-example standardisation (a parameter-free
`LayerNormalization` over time x mel, so a gain change is a no-op and no
statistics of the training clip are baked in) -> `SpecAugment` (masks in
training only) -> CNN -> logits. The two custom layers are registered
(`aip_keras>LogMel`, `aip_keras>SpecAugment`), so a saved model loads with
`safe_mode=True` once `aip_keras.front_end` has been imported (`import aip_keras`
does it).

    from aip_keras import models
    model = models.build("audio_cnn", (16000,), 10)            # 1 s at 16 kHz
    model = models.build("audio_cnn", (8000,), 10, sample_rate=8000)

`aip_keras.teachers.load_audio_model(path)` loads a teacher or student and checks
it takes raw waveforms; `aip_keras.model_facts.audio_format(model)` reads its
sample rate and input length.
"""

import keras

from aip_keras.front_end import DEFAULT_SAMPLE_RATE, LogMel, SpecAugment, num_frames
from aip_keras.models.registry import batch_norm, l2, register

SPEC_AUGMENT_DEFAULTS = {"freq_masks": 2, "freq_width": 8, "time_masks": 2, "time_width": 10}


def waveform_input(input_shape, sample_rate):
    """`keras.Input` for `(samples,)` waveforms, with a clear error for image shapes."""
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
    if len(shape) != 1 or (shape[0] is not None and (not isinstance(shape[0], int) or shape[0] < 1)):
        raise ValueError(
            f"audio models take raw waveforms: input_shape must be (samples,), got {input_shape}: "
            f"e.g. ({sample_rate},) for 1 s at {sample_rate} Hz."
        )
    return keras.Input(shape, name="waveform")


def front_end(inputs, sample_rate, num_mels=64, spec_augment=True, top_db=80.0):
    """`LogMel` -> `(B, frames, mels, 1)` -> standardise -> `SpecAugment`: the shared audio input block.

    Args:
        inputs: the waveform `keras.Input`.
        sample_rate: the waveforms' rate.
        num_mels: mel bins.
        spec_augment: True (default masks), False / None (no masks), or a
            dict of `SpecAugment` arguments.
        top_db: the front end's per-example dynamic range.

    Returns:
        The standardised (and masked in training) `(B, frames, mels, 1)` tensor.
    """
    x = LogMel(sample_rate=sample_rate, num_mels=num_mels, top_db=top_db, name="log_mel")(inputs)
    samples = inputs.shape[-1]
    frames = num_frames(samples, sample_rate) if samples else -1
    x = keras.layers.Reshape((frames, num_mels, 1), name="to_image")(x)
    x = keras.layers.LayerNormalization(axis=(1, 2, 3), center=False, scale=False, epsilon=1e-3,
                                        name="standardize")(x)
    if spec_augment:
        options = dict(SPEC_AUGMENT_DEFAULTS)
        if isinstance(spec_augment, dict):
            unknown = sorted(set(spec_augment) - set(SPEC_AUGMENT_DEFAULTS) - {"value", "seed"})
            if unknown:
                raise ValueError(f"unknown spec_augment options {unknown}: use {sorted(SPEC_AUGMENT_DEFAULTS)}.")
            options.update(spec_augment)
        x = SpecAugment(**options, name="spec_augment")(x)
    return x


@register("audio_cnn")
def audio_cnn(input_shape=(DEFAULT_SAMPLE_RATE,), num_classes=10, sample_rate=DEFAULT_SAMPLE_RATE, num_mels=64,
              widths=(16, 32, 64, 128), spec_augment=True, dropout=0.1, weight_decay=0.0):
    """A small CPU-friendly CNN on log-mel: one 3x3 conv-BN-ReLU + 2x2 max-pool per stage.

    With the defaults (1 s at 16 kHz -> 100 x 64 log-mel, widths 16-32-64-128)
    it has 99k parameters and ~23M multiply-adds per clip (widths 32-64-128-256:
    0.39M and ~90M, about 3x slower to train on the 2-core CPU).

    Args:
        input_shape: `(samples,)`.
        num_classes: number of logits.
        sample_rate: the waveforms' rate (stored in the `LogMel` layer).
        num_mels: mel bins.
        widths: filters per stage (each stage halves time and frequency).
        spec_augment: masks in training (see `front_end`).
        dropout: before the classifier.
        weight_decay: PyTorch-style L2 coefficient on kernels.

    Example:

    >>> model = audio_cnn((8000,), 10, sample_rate=8000)
    >>> model.output_shape
    (None, 10)
    """
    inputs = waveform_input(input_shape, sample_rate)
    x = front_end(inputs, sample_rate, num_mels, spec_augment)
    for i, width in enumerate(widths):
        x = keras.layers.Conv2D(int(width), 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                                kernel_regularizer=l2(weight_decay), name=f"stage{i + 1}_conv")(x)
        x = batch_norm(f"stage{i + 1}_bn")(x)
        x = keras.layers.ReLU(name=f"stage{i + 1}_relu")(x)
        if i < len(widths) - 1:
            x = keras.layers.MaxPooling2D(2, padding="same", name=f"stage{i + 1}_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, kernel_regularizer=l2(weight_decay), name="logits")(x)
    return keras.Model(inputs, outputs, name="audio_cnn")


@register("audio_efficientnet_b0")
def audio_efficientnet_b0(input_shape=(DEFAULT_SAMPLE_RATE,), num_classes=10, sample_rate=DEFAULT_SAMPLE_RATE,
                          num_mels=64, spec_augment=True, dropout=0.2):
    """EfficientNet-B0 (`keras.applications`, random weights) on the 1-channel log-mel image.

    About 4.06M parameters; at 100 x 64 log-mel frames ~50M multiply-adds
    per clip, but much slower per FLOP on a CPU than `audio_cnn` (depthwise
    convolutions, SE blocks). EfficientNet rescales its input by 1/255 inside,
    so the standardised log-mel is multiplied by 255 first.

    Example:

    >>> audio_efficientnet_b0((16000,), 10).output_shape
    (None, 10)
    """
    inputs = waveform_input(input_shape, sample_rate)
    x = front_end(inputs, sample_rate, num_mels, spec_augment)
    x = keras.layers.Rescaling(255.0, name="undo_efficientnet_rescaling")(x)
    base = keras.applications.EfficientNetB0(weights=None, include_top=False, input_tensor=x, pooling="avg")
    x = base.output
    if dropout:
        x = keras.layers.Dropout(dropout, name="top_dropout")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="audio_efficientnet_b0")
