"""Video classifiers on clips `(batch, frames, height, width, channels)`, by registry name.

Every video model takes float32 clips in [0, 1] (channels-last, RGB or grey),
normalises them inside with a fixed `keras.layers.Normalization` (default
`mean="auto"`: CIFAR-10 statistics for RGB, Fashion-MNIST for grey, as the
image models) and returns logits. They are plain functional models of standard
Keras layers: save to `.keras`, load with `safe_mode=True`, no custom objects.

    from aip_keras import models
    student = models.build("video_cnn", (4, 32, 32, 3), 10)     # (2+1)D CNN, 0.16M parameters
    teacher = models.build("x3d_s", (8, 32, 32, 3), 10)         # X3D-style, depth x2.2

`video_cnn` is the CPU-friendly student; `x3d` (and `x3d_xs`, `x3d_s`) is an
X3D-style network with depthwise 3D convolutions (`keras.layers.Conv3D` with
`groups=channels`, which runs, trains and matches a per-channel reference on the
TensorFlow CPU backend). `videoswin_classifier` (not registered: it needs
keras-cv's custom layers) builds keras-cv's Video Swin Transformer.
"""

import keras

from aip_keras.models.registry import batch_norm, l2, normalized, register


def video_input(input_shape, mean="auto", std="auto"):
    """The shared video input block: `keras.Input` for clips plus optional fixed normalisation.

    Args:
        input_shape: `(frames, height, width, channels)`; frames, height and
            width may be None.
        mean: per-channel mean of [0, 1] clips, a scalar, None (no
            normalisation) or `"auto"`: CIFAR-10 statistics for 3 channels,
            Fashion-MNIST statistics for 1 channel (as `registry.image_input`).
        std: per-channel standard deviation, matching `mean`.

    Returns:
        `(inputs, x)`: the `keras.Input` (named `"clip"`) and the normalised tensor.

    Raises:
        ValueError: the shape is not `(frames, height, width, channels)` (e.g.
            an image shape), frames < 1, sides < 8 pixels, or bad mean/std.

    Example:

    >>> inputs, x = video_input((4, 32, 32, 3))
    >>> tuple(x.shape)
    (None, 4, 32, 32, 3)
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
    if len(shape) != 4 or not isinstance(shape[-1], int) or shape[-1] < 1:
        raise ValueError(
            "video models take clips: input_shape must be (frames, height, width, channels), "
            f"got {input_shape}: e.g. (4, 32, 32, 3)."
        )
    if shape[0] is not None and (not isinstance(shape[0], int) or shape[0] < 1):
        raise ValueError(f"input_shape {input_shape} has {shape[0]} frames: use at least 1 frame, e.g. (4, 32, 32, 3).")
    for side in shape[1:3]:
        if side is not None and (not isinstance(side, int) or side < 8):
            raise ValueError(f"input_shape {input_shape} is too small or not integer: use sides of at least 8 pixels.")
    return normalized(keras.Input(shape, name="clip"), mean, std)


def _conv3d(filters, kernel_size, strides=1, groups=1, weight_decay=0.0, name=None):
    """Bias-free 'same' Conv3D (BN follows); `groups=filters` makes it depthwise."""
    return keras.layers.Conv3D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        groups=groups,
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=l2(weight_decay),
        name=name,
    )


def _head(x, num_classes, dropout, weight_decay):
    x = keras.layers.GlobalAveragePooling3D(name="avg_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.layers.Dense(num_classes, kernel_regularizer=l2(weight_decay), name="logits")(x)


# --------------------------------------------------------------------------- (2+1)D CNN


@register("video_cnn")
def video_cnn(input_shape=(4, 32, 32, 3), num_classes=10, widths=(32, 64, 128), dropout=0.0, weight_decay=0.0,
              mean="auto", std="auto"):
    """A small CPU-friendly (2+1)D CNN: per stage a spatial then a temporal conv.

    Per stage: `Conv3D(w, (1, 3, 3))`-BN-ReLU, then `Conv3D(w, (3, 1, 1))`-BN-ReLU;
    `MaxPooling3D((1, 2, 2))` between stages (space only, time is kept), global
    average pooling over T x H x W, optional dropout, linear logits. With the
    defaults (widths 32-64-128, 10 classes) it has 159,722 trainable parameters
    (0.15-0.17M; widths 48-96-192: 0.36M) and ~80M multiply-adds per 4 x 32 x 32
    clip, the same order as `small_cnn` per image. Any number of stages works,
    e.g. `widths=(8, 16)` for tests.

    Args:
        input_shape: `(frames, height, width, channels)` of [0, 1] clips.
        num_classes: number of logits.
        widths: filters per stage.
        dropout: before the classifier (0: none).
        weight_decay: PyTorch-style L2 coefficient on kernels.
        mean: normalisation mean (see `video_input`).
        std: normalisation standard deviation.

    Returns:
        A functional `keras.Model` named `"video_cnn"`, clips in, logits out.

    Example:

    >>> model = video_cnn((4, 16, 16, 3), 5, widths=(8, 16))
    >>> model.output_shape
    (None, 5)
    """
    widths = tuple(int(w) for w in widths)
    if not widths or min(widths) < 1:
        raise ValueError(f"widths must be positive filter counts, got {widths}: e.g. (32, 64, 128).")
    inputs, x = video_input(input_shape, mean, std)
    for stage, width in enumerate(widths, start=1):
        if stage > 1:
            x = keras.layers.MaxPooling3D((1, 2, 2), padding="same", name=f"stage{stage}_pool")(x)
        for part, kernel in (("spatial", (1, 3, 3)), ("temporal", (3, 1, 1))):
            x = _conv3d(width, kernel, weight_decay=weight_decay, name=f"stage{stage}_{part}_conv")(x)
            x = batch_norm(f"stage{stage}_{part}_bn")(x)
            x = keras.layers.ReLU(name=f"stage{stage}_{part}_relu")(x)
    outputs = _head(x, num_classes, dropout, weight_decay)
    return keras.Model(inputs, outputs, name="video_cnn")


# --------------------------------------------------------------------------- X3D


def round_width(width, divisor=8):
    """Rounds a channel count to the nearest multiple of `divisor` (never below 90% of it, nor below `divisor`)."""
    rounded = max(divisor, int(width + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * width:
        rounded += divisor
    return rounded


def x3d_config(width_factor=1.0, depth_factor=1.0, base_width=24, expansion=2.25, stages=(1, 2, 5, 3),
               head_width=None):
    """The layout `x3d` builds: stem width, per stage `(blocks, width, inner width)`, head width.

    Widths are `base_width * width_factor * (1, 2, 4, 8, ...)` and the inner
    (expanded) widths `width * expansion`, rounded to multiples of 8; each stage
    has `max(1, round(n * depth_factor))` blocks. The head is `head_width *
    width_factor` (rounded) or, if None, the last stage's inner width.

    Example:

    >>> x3d_config()["stages"]
    [(1, 24, 56), (2, 48, 112), (5, 96, 216), (3, 192, 432)]
    >>> [blocks for blocks, _, _ in x3d_config(depth_factor=2.2)["stages"]]
    [2, 4, 11, 7]
    """
    if width_factor <= 0 or depth_factor <= 0 or base_width < 1 or expansion <= 0:
        raise ValueError(
            f"width_factor, depth_factor, base_width and expansion must be positive, got {width_factor}, "
            f"{depth_factor}, {base_width}, {expansion}: e.g. 1.0, 1.0, 24, 2.25."
        )
    stages = tuple(int(n) for n in stages)
    if not stages or min(stages) < 1:
        raise ValueError(f"stages must be positive block counts, got {stages}: e.g. (1, 2, 5, 3).")
    base = base_width * width_factor
    layout = []
    for i, n in enumerate(stages):
        width = round_width(base * 2**i)
        layout.append((max(1, round(n * depth_factor)), width, round_width(width * expansion)))
    if head_width is not None and head_width < 1:
        raise ValueError(f"head_width must be a positive channel count or None, got {head_width}: e.g. 432.")
    head = layout[-1][2] if head_width is None else round_width(head_width * width_factor)
    return {"stem": round_width(base), "stages": layout, "head": head}


def _x3d_block(x, width, inner, strides, se_ratio, weight_decay, name):
    """X3D bottleneck: 1x1x1 expand, depthwise 3x3x3 (strided), [SE], swish, 1x1x1 project, add, ReLU."""
    y = _conv3d(inner, 1, weight_decay=weight_decay, name=f"{name}_expand")(x)
    y = keras.layers.ReLU(name=f"{name}_expand_relu")(batch_norm(f"{name}_expand_bn")(y))
    y = _conv3d(inner, 3, strides, groups=inner, weight_decay=weight_decay, name=f"{name}_depthwise")(y)
    y = batch_norm(f"{name}_depthwise_bn")(y)
    if se_ratio:
        s = keras.layers.GlobalAveragePooling3D(keepdims=True, name=f"{name}_se_pool")(y)
        s = keras.layers.Conv3D(round_width(inner * se_ratio), 1, activation="relu", name=f"{name}_se_reduce")(s)
        s = keras.layers.Conv3D(inner, 1, activation="sigmoid", name=f"{name}_se_expand")(s)
        y = keras.layers.Multiply(name=f"{name}_se")([y, s])
    y = keras.layers.Activation("swish", name=f"{name}_swish")(y)
    y = _conv3d(width, 1, weight_decay=weight_decay, name=f"{name}_project")(y)
    y = batch_norm(f"{name}_project_bn")(y)
    if x.shape[-1] != width or strides != 1:
        x = _conv3d(width, 1, strides, weight_decay=weight_decay, name=f"{name}_shortcut")(x)
        x = batch_norm(f"{name}_shortcut_bn")(x)
    return keras.layers.ReLU(name=f"{name}_out")(keras.layers.Add(name=f"{name}_add")([x, y]))


def _build_x3d(name, input_shape, num_classes, width_factor, depth_factor, base_width, expansion, stages, se_ratio,
               mean, std, weight_decay, dropout, head_width):
    layout = x3d_config(width_factor, depth_factor, base_width, expansion, stages, head_width)
    if se_ratio < 0 or se_ratio >= 1:
        raise ValueError(f"se_ratio must be in [0, 1), got {se_ratio}: 0 (no squeeze-excitation) or e.g. 0.0625.")
    inputs, x = video_input(input_shape, mean, std)
    stem = layout["stem"]
    x = _conv3d(stem, (1, 3, 3), (1, 2, 2), weight_decay=weight_decay, name="stem_spatial")(x)
    x = _conv3d(stem, (5, 1, 1), groups=stem, weight_decay=weight_decay, name="stem_temporal")(x)
    x = keras.layers.ReLU(name="stem_relu")(batch_norm("stem_bn")(x))
    for stage, (blocks, width, inner) in enumerate(layout["stages"], start=2):  # res2, res3, ... as in the paper
        for block in range(1, blocks + 1):
            strides = (1, 2, 2) if block == 1 else 1
            block_se = se_ratio if block % 2 == 1 else 0.0  # X3D: SE in every other block
            x = _x3d_block(x, width, inner, strides, block_se, weight_decay, name=f"res{stage}_block{block}")
    x = _conv3d(layout["head"], 1, weight_decay=weight_decay, name="head_conv")(x)
    x = keras.layers.ReLU(name="head_relu")(batch_norm("head_bn")(x))
    outputs = _head(x, num_classes, dropout, weight_decay)
    return keras.Model(inputs, outputs, name=name)


@register("x3d")
def x3d(input_shape=(4, 32, 32, 3), num_classes=10, width_factor=1.0, depth_factor=1.0, base_width=24,
        expansion=2.25, stages=(1, 2, 5, 3), mean="auto", std="auto", weight_decay=0.0, dropout=0.0, se_ratio=0.0,
        head_width=None):
    """An X3D-style network (Feichtenhofer, CVPR 2020), expanded by width and depth factors.

    Stem: `Conv3D(24, (1, 3, 3), strides (1, 2, 2))`, then a depthwise temporal
    `Conv3D(24, (5, 1, 1), groups=24)`, BN, ReLU. Stages res2-res5 of bottleneck
    residual blocks: 1x1x1 expand to `expansion` x width, depthwise 3x3x3
    (`Conv3D(groups=channels)`, strided (1, 2, 2) in each stage's first block),
    optional squeeze-excitation (`se_ratio`, every other block as in X3D; off by
    default to stay small), swish, 1x1x1 project, BN, residual add (1x1x1 conv +
    BN shortcut when the shape changes), ReLU. Head: 1x1x1 conv to `head_width`
    (default: the last stage's inner width, 432), BN, ReLU, global average pool,
    dropout, linear logits (no 2048-wide fc layer, unlike the paper).

    Widths: `base_width * width_factor * (1, 2, 4, 8)` rounded to multiples of 8
    (24-48-96-192, inner 56-112-216-432 by default); blocks per stage
    `max(1, round(n * depth_factor))` (see `x3d_config`). Space is downsampled
    32x (a 32 x 32 clip ends at 1 x 1); time is never strided. With the defaults
    and 10 classes: 0.87M trainable parameters; `depth_factor=2.2` (`x3d_s`):
    1.92M; `width_factor=2`: 3.31M; `se_ratio=1/16`: 0.95M.

    Args:
        input_shape: `(frames, height, width, channels)` of [0, 1] clips.
        num_classes: number of logits.
        width_factor: multiplies every width.
        depth_factor: multiplies the blocks per stage.
        base_width: stem and res2 width before `width_factor`.
        expansion: bottleneck inner width / block width.
        stages: blocks per stage before `depth_factor` (X3D: 1, 2, 5, 3).
        mean: normalisation mean (see `video_input`).
        std: normalisation standard deviation.
        weight_decay: PyTorch-style L2 coefficient on kernels.
        dropout: before the classifier (0: none).
        se_ratio: squeeze-excitation bottleneck ratio (X3D: 1/16), 0 for none.
        head_width: channels of the head's 1x1x1 conv before `width_factor`
            (None: the last stage's inner width, 432 by default).

    Returns:
        A functional `keras.Model` named `"x3d"`, clips in, logits out.

    Example:

    >>> model = x3d((4, 16, 16, 3), 5)
    >>> model.output_shape
    (None, 5)
    """
    return _build_x3d("x3d", input_shape, num_classes, width_factor, depth_factor, base_width, expansion, stages,
                      se_ratio, mean, std, weight_decay, dropout, head_width)


@register("x3d_xs")
def x3d_xs(input_shape=(4, 32, 32, 3), num_classes=10, base_width=24, expansion=2.25, stages=(1, 2, 5, 3), mean="auto",
           std="auto", weight_decay=0.0, dropout=0.0, se_ratio=0.0, head_width=None):
    """`x3d` at width_factor 1, depth_factor 1 (blocks 1-2-5-3, 0.87M parameters); options as in `x3d`."""
    return _build_x3d("x3d_xs", input_shape, num_classes, 1.0, 1.0, base_width, expansion, stages, se_ratio, mean, std,
                      weight_decay, dropout, head_width)


@register("x3d_s")
def x3d_s(input_shape=(4, 32, 32, 3), num_classes=10, base_width=24, expansion=2.25, stages=(1, 2, 5, 3), mean="auto",
          std="auto", weight_decay=0.0, dropout=0.0, se_ratio=0.0, head_width=None):
    """`x3d` at depth_factor 2.2 (X3D's depth expansion: blocks 2-4-11-7, 1.92M parameters); options as in `x3d`.

    The paper's X3D-S also has depth x2.2 (pytorchvideo rounds up: 3-5-11-7 blocks)
    and differs from X3D-XS by its input (13 frames at 160 px), not its layout.
    """
    return _build_x3d("x3d_s", input_shape, num_classes, 1.0, 2.2, base_width, expansion, stages, se_ratio, mean, std,
                      weight_decay, dropout, head_width)


# --------------------------------------------------------------------------- Video Swin (keras-cv)


def videoswin_classifier(num_classes=400, preset=None, input_shape=(32, 224, 224, 3), **backbone_kwargs):
    """keras-cv's Video Swin Transformer classifier (`keras_cv.models.VideoClassifier`), logits out.

    Without `preset` it builds `keras_cv.models.VideoSwinBackbone(input_shape=...,
    **backbone_kwargs)` (random weights, runs offline) and wraps it in
    `keras_cv.models.VideoClassifier(backbone, num_classes, activation=None)`:
    average pooling + a linear layer. With `preset` it calls
    `keras_cv.models.VideoClassifier.from_preset(preset, num_classes=...,
    activation=None)`: a backbone preset (e.g. `"videoswin_tiny_kinetics400"`)
    gets a new `num_classes` head; a classifier preset (e.g.
    `"videoswin_tiny_kinetics400_classifier"`, 400 Kinetics classes) keeps its
    head. `input_shape` applies to the config-built model only.

    keras-cv 0.9 lists the `videoswin_*` presets but publishes no weights for them
    (no Kaggle handle; keras-cv issue #2485), so those names raise a ValueError;
    a `kaggle://...`, `gs://...` handle or a local preset folder is passed on.

    Unlike the registered models this is not a plain functional model of standard
    layers: it needs `import keras_cv` to load, and its inputs go into the
    backbone as they are (`include_rescaling=True` expects [0, 255] pixels and
    normalises with ImageNet statistics; keras-cv's default, False, does nothing).

    Args:
        num_classes: number of logits.
        preset: None (build from config) or a keras-cv preset name / handle / folder.
        input_shape: `(frames, height, width, channels)` of the config-built model.
        **backbone_kwargs: `VideoSwinBackbone` options: `embed_dim` (96),
            `depths` ([2, 2, 6, 2]), `num_heads` ([3, 6, 12, 24]), `window_size`
            ([8, 7, 7]), `patch_size` ([2, 4, 4]), `mlp_ratio`, `drop_path_rate`,
            `include_rescaling`, ...

    Returns:
        A `keras_cv.models.VideoClassifier` (a functional `keras.Model`) named
        `"videoswin_classifier"` for the config-built model.

    Raises:
        ValueError: keras-cv is missing, the preset has no weights to download,
            cannot be downloaded or is not a video preset (one line each).

    Example:

    >>> model = videoswin_classifier(5, input_shape=(4, 32, 32, 3), embed_dim=16, depths=[1, 1], num_heads=[1, 1],
    ...                              window_size=[2, 4, 4], patch_size=[2, 4, 4])
    >>> model.output_shape
    (None, 5)
    """
    try:
        import keras_cv
    except ImportError as error:  # pragma: no cover - keras-cv is a dependency
        raise ValueError(f"videoswin_classifier needs keras-cv (pip install 'keras-cv==0.9.*'): {error}.") from None
    classifier = keras_cv.models.VideoClassifier
    if preset is None:
        shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else (input_shape,)
        if len(shape) != 4:
            raise ValueError(
                "video models take clips: input_shape must be (frames, height, width, channels), "
                f"got {input_shape}: e.g. (32, 224, 224, 3)."
            )
        backbone = keras_cv.models.VideoSwinBackbone(input_shape=shape, **backbone_kwargs)
        return classifier(backbone=backbone, num_classes=num_classes, activation=None, name="videoswin_classifier")
    if backbone_kwargs:
        raise ValueError(f"backbone options {sorted(backbone_kwargs)} apply to config-built models only: "
                         "pass preset=None to use them.")
    known = classifier.presets
    video_presets = sorted(name for name in known if name.startswith("videoswin"))
    if preset in known and preset not in video_presets:
        raise ValueError(f"keras-cv preset {preset} is an image backbone, not a video one: use one of {video_presets}.")
    if preset in known and "kaggle_handle" not in known[preset]:
        raise ValueError(
            f"cannot download keras-cv preset {preset} (keras-cv {keras_cv.__version__} lists it but publishes no "
            "weights: no kaggle_handle, keras-cv issue #2485): build from config with preset=None, or pass a "
            "kaggle:// handle or a local preset folder."
        )
    try:
        return classifier.from_preset(preset, num_classes=num_classes, activation=None)
    except Exception as error:  # one line for the CLI; the cause is kept in __cause__
        message = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
        if _is_network_error(error):
            raise ValueError(f"cannot download keras-cv preset {preset} (no network?): {message}") from error
        raise ValueError(
            f"cannot build keras-cv preset {preset}: {message} (keras-cv video presets: {video_presets})"
        ) from error


def _is_network_error(error):
    """Connection/DNS/HTTP failures (builtin, urllib, requests, kagglehub), not other errors."""
    if isinstance(error, (ConnectionError, TimeoutError)):
        return True
    module = type(error).__module__.split(".")[0]
    if module in ("requests", "urllib3", "urllib", "kagglehub", "http", "socket", "google"):
        return True
    return isinstance(error, OSError) and not isinstance(error, (FileNotFoundError, PermissionError))
