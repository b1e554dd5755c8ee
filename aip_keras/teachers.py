"""The one model loader: every name scheme, for teachers and for students to evaluate.

`load_teacher(teacher)` returns a frozen classifier and the `InputSpec` of what
it expects; `load_audio_model` the same model with its audio format. Both accept:

- a `keras.Model` object;
- a `.keras` file (`safe_mode=True` unless told otherwise) or a legacy `.h5` model;
- a `.weights.h5` file plus `arch` (an `aip_keras.models` registry name or a
  builder callable), `num_classes` and the input shape;
- a folder in Keras' unzipped / Hugging Face layout (`config.json`,
  `model.weights.h5`, `metadata.json`: what `model.save(folder, zipped=False)`
  and `model.save("hf://...")` write), loaded by Keras' own loader;
- `"keras.applications:<Name>"` (ImageNet weights, logits out);
- `"hf://<repo_id>"` (a Keras model on the Hugging Face Hub, or its local cache);
- `"kerashub:<preset>"` (a keras-hub `ImageClassifier` preset, or a local preset folder);
- `"zoo:<name>"` (an `aip_keras.zoo` entry: bundled, the user's zoo, the HF cache, then the Hub).

This module sits above `aip_keras.models` (weights files with `arch=`) and
`aip_keras.zoo`; neither imports it. The model comes back frozen
(`trainable=False`) and checked to be a one-input classifier of images
`(batch, height, width, channels)`, clips `(batch, frames, height, width,
channels)` or waveforms `(batch, samples)` with a `(batch, classes)` output. Nothing is downloaded without a
3-second reachability check first: offline, remote teachers fail at once with a
one-line `ValueError` (a teacher is never silently replaced by a random one).
"""

import contextlib
import os
import pathlib
import re
import urllib.parse
import warnings
import zipfile

import keras
import numpy as np

from aip_keras import models, zoo
from aip_keras.input_spec import InputSpec, spec_for_model
from aip_keras.model_facts import audio_format, check_classifier, input_modality
from aip_keras.utils import first_line, hf_endpoint, hub_offline, network_available

FORMS = (
    "a .keras/.h5 file, a .weights.h5 file with arch=, a Keras model folder, "
    "keras.applications:<Name>, hf://<repo_id>, kerashub:<preset> or zoo:<name>"
)
GCS_HOST = "https://storage.googleapis.com"
KAGGLE_HOST = "https://www.kaggle.com"

# keras.applications module -> how its ImageNet weights want their input
# (see each module's `preprocess_input`).
APPLICATION_PREPROCESSING = {
    "resnet": "caffe", "vgg16": "caffe", "vgg19": "caffe",
    "resnet_v2": "tf", "inception_v3": "tf", "inception_resnet_v2": "tf",
    "xception": "tf", "mobilenet": "tf", "mobilenet_v2": "tf", "nasnet": "tf",
    "densenet": "torch",
    "efficientnet": "raw", "efficientnet_v2": "raw", "convnext": "raw", "mobilenet_v3": "raw",
}
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


def load_teacher(
    teacher,
    input_spec=None,
    arch=None,
    num_classes=None,
    input_shape=None,
    safe_mode=True,
):
    """Loads a frozen teacher classifier and the `InputSpec` of its input.

    Args:
        teacher: a `keras.Model`, a path (`.keras`, `.h5`, `.weights.h5`, or a
            Keras model folder), `"keras.applications:<Name>"`, `"hf://<repo_id>"`
            or `"kerashub:<preset>"`.
        input_spec: the `InputSpec` (or its `to_dict()`) turning [0, 1] images into
            the teacher's input. Default: the teacher's size and channels with
            [0, 1] values (`spec_for_model`) for models that normalise inside, like
            ours; the family's own preprocessing for keras.applications and
            keras-hub teachers.
        arch: for a `.weights.h5` file: an `aip_keras.models` registry name, or a
            callable `(input_shape, num_classes) -> keras.Model`.
        num_classes: for a `.weights.h5` file: the number of classes.
        input_shape: for a `.weights.h5` file: `(height, width, channels)`;
            default: the size and channels of `input_spec`.
        safe_mode: load `.keras` files and folders in Keras' safe mode (no
            arbitrary code from `Lambda` layers). Pass False only for files you trust.

    Returns:
        `(model, input_spec)`: the model with `trainable=False`, and an `InputSpec`.

    Raises:
        ValueError: one line saying what is wrong and how to fix it (missing or
            unreadable file, no network for a remote teacher, not a one-input
            classifier with a `(batch, classes)` output).

    Example:

    >>> import keras
    >>> inputs = keras.Input((28, 28, 1))
    >>> logits = keras.layers.Dense(10)(keras.layers.Flatten()(inputs))
    >>> model, spec = load_teacher(keras.Model(inputs, logits))
    >>> model.trainable, spec.size, spec.channels
    (False, (28, 28), 1)
    """
    if isinstance(input_spec, dict):
        input_spec = InputSpec(**input_spec)
    if input_spec is not None and not isinstance(input_spec, InputSpec):
        raise ValueError(
            f"input_spec must be an aip_keras InputSpec or its to_dict(), got {type(input_spec).__name__}: "
            "build one with aip_keras.InputSpec(...)."
        )
    family_spec = None
    if isinstance(teacher, keras.Model):
        model = teacher
    elif isinstance(teacher, keras.layers.Layer):
        raise ValueError(f"teacher {teacher.name!r} is a layer, not a model: wrap it in a keras.Model.")
    elif not isinstance(teacher, (str, os.PathLike)):
        raise ValueError(f"teacher must be a keras.Model or a string, got {type(teacher).__name__}: pass {FORMS}.")
    else:
        text = os.fspath(teacher)
        if text.startswith("keras.applications:"):
            model, family_spec = _from_applications(text[len("keras.applications:"):])
        elif text.startswith("hf://"):
            model = _from_hf(text, safe_mode)
        elif text.startswith("kerashub:"):
            model, family_spec = _from_kerashub(text[len("kerashub:"):])
        elif text.startswith("zoo:"):  # the zoo's own folders, the HF cache, then the Hub
            model, family_spec = zoo.load(text[len("zoo:"):], safe_mode=safe_mode)
        else:
            model, family_spec = _from_path(
                pathlib.Path(text).expanduser(), arch, num_classes, input_shape, input_spec, safe_mode
            )
    check_classifier(model)
    if input_spec is None and family_spec is not None:
        input_spec = family_spec
    elif input_spec is None:  # video and audio teachers take the clips as they are
        input_spec = spec_for_model(model) if input_modality(model) == "image" else InputSpec()
    model.trainable = False
    return model, input_spec


def load_audio_model(model, safe_mode=True):
    """Loads a waveform classifier (teacher or student) and reads what it takes.

    Args:
        model: anything `load_teacher` takes that holds an audio classifier: a
            `keras.Model`, a `.keras` file, a model folder (`aip train-teacher
            --modality=audio`), `zoo:<name>` or `hf://<owner>/<name>`.
        safe_mode: Keras safe mode (no `Lambda` code) for files.

    Returns:
        `(model, format)` with `format` from `aip_keras.model_facts.audio_format`
        (`{"sample_rate": ..., "samples": ...}`).

    Raises:
        ValueError: one line (missing or unreadable file, not an audio classifier).
    """
    model, _ = load_teacher(model, safe_mode=safe_mode)
    return model, audio_format(model)


# --------------------------------------------------------------------------- files


def _from_path(path, arch, num_classes, input_shape, input_spec, safe_mode):
    text = str(path)
    if not path.exists():
        kind = re.match(r"([A-Za-z][\w.+-]+):", text)  # e.g. "zoo:x", "keras.application:X"
        if kind:
            raise ValueError(f"unknown teacher kind {kind.group(1)!r} in {text!r}: pass {FORMS}.")
        raise ValueError(f"teacher file {text} does not exist: pass {FORMS}.")
    if path.is_dir():
        if (path / "task.json").is_file():  # a keras-hub preset: its config.json is the bare backbone
            return _from_kerashub(text)
        if (path / "config.json").is_file():
            return _keras_load(path, safe_mode), None
        if (path / "saved_model.pb").is_file():
            raise ValueError(
                f"teacher folder {text} is a TensorFlow SavedModel, which Keras 3 cannot load as a model: "
                "re-save it as .keras (or wrap it in keras.layers.TFSMLayer in a keras.Model yourself)."
            )
        raise ValueError(
            f"teacher folder {text} has no config.json: pass a folder written by model.save(folder, zipped=False) "
            "or a .keras file."
        )
    if text.endswith(".weights.h5"):
        return _from_weights(path, arch, num_classes, input_shape, input_spec), None
    if path.suffix in (".keras", ".h5", ".hdf5"):
        return _keras_load(path, safe_mode), None
    raise ValueError(f"teacher file {text} has an unknown extension {path.suffix!r}: pass {FORMS}.")


def _keras_load(path, safe_mode):
    if path.suffix == ".keras" and path.is_file() and not zipfile.is_zipfile(path):
        raise ValueError(
            f"teacher file {path} is not a .keras (zip) archive ({path.stat().st_size} bytes of something else): "
            "re-save the model with model.save('teacher.keras')."
        )
    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=safe_mode)
    except Exception as error:  # Keras raises many kinds for bad files
        message, full = first_line(error), str(error)
        if "safe_mode" in full or "arbitrary code execution" in full:
            fix = "if you trust the file, pass safe_mode=False"
        elif "No model config" in full:
            fix = "it holds weights only: save the whole model, or pass a .weights.h5 file with arch="
        else:
            fix = "check that it was written by keras model.save(), or re-save it"
        raise ValueError(f"teacher file {path} cannot be read as a Keras model ({message}): {fix}.") from None


def _from_weights(path, arch, num_classes, input_shape, input_spec):
    if arch is None:
        raise ValueError(
            f"teacher file {path} holds weights only: pass arch=<aip_keras.models name> with num_classes and "
            "input_shape (or save the whole model as .keras)."
        )
    if num_classes is None:
        raise ValueError(f"teacher weights {path} need num_classes: pass the number of classes the teacher predicts.")
    if input_shape is None and input_spec is not None and input_spec.size and input_spec.channels:
        input_shape = (*input_spec.size, input_spec.channels)
    if input_shape is None:
        raise ValueError(
            f"teacher weights {path} need the input shape: pass input_shape=(height, width, channels) "
            "or an input_spec with size and channels."
        )
    input_shape = tuple(int(s) for s in input_shape)
    if callable(arch):
        model = arch(input_shape, int(num_classes))
    else:
        model = models.build(arch, input_shape, int(num_classes))
    problem = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(path))
        except Exception as error:
            problem = first_line(error)
    partial = [w for w in caught if "freshly-initialized" in str(w.message) or "not be loaded" in str(w.message)]
    if problem is None and partial:  # never hand back a partly random teacher
        problem = first_line(partial[0].message, limit=200, with_type=False)
    if problem is not None:
        raise ValueError(
            f"teacher weights {path} do not fit {getattr(arch, '__name__', arch)!r} with input {input_shape} and "
            f"{num_classes} classes ({problem}): pass the arch, num_classes and input_shape they were saved from."
        )
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return model


# --------------------------------------------------------------------------- remote


def _from_applications(name):
    constructor = getattr(keras.applications, name, None)
    family = getattr(constructor, "__module__", "").rsplit(".", 1)[-1]
    mode = APPLICATION_PREPROCESSING.get(family)
    if constructor is None or not name[:1].isupper() or mode is None:
        known = sorted(n for n in dir(keras.applications) if n[:1].isupper())
        raise ValueError(f"keras.applications has no classifier {name!r}: choose one of {', '.join(known)}.")
    return _application_teacher(name, weights="imagenet")


class _NoDownload(ValueError):
    """A download refused offline; its message is already the one-line error."""


def _application_teacher(name, weights="imagenet"):
    """A keras.applications classifier that outputs logits, and its `InputSpec`.

    The family's `preprocess_input` is expressed as an `InputSpec` where it can
    be: `"tf"` families (ResNetV2, Inception, Xception, MobileNet/V2, NASNet) get
    values in [-1, 1], `"torch"` (DenseNet) ImageNet mean/std on [0, 1], and the
    families that normalise inside (EfficientNet/V2, ConvNeXt, MobileNetV3) 0-255.
    The `"caffe"` families (ResNet50/101/152, VGG16/19) want BGR minus the
    ImageNet mean, which InputSpec cannot express (no channel reordering): they
    are wrapped in a functional model taking 0-255 RGB whose first layer is a
    frozen 1x1 `Conv2D` doing exactly the RGB->BGR swap and the mean subtraction.

    Without network the weights must already be in the Keras cache
    (`~/.keras/models/`); otherwise this fails at once with a `ValueError`.

    Args:
        name: the constructor's name in `keras.applications`, e.g. `"ResNet50"`.
        weights: `"imagenet"`, or a local weights file for the same architecture.

    Returns:
        `(model, input_spec)`.
    """
    constructor = getattr(keras.applications, name)
    mode = APPLICATION_PREPROCESSING[constructor.__module__.rsplit(".", 1)[-1]]
    offline = weights == "imagenet" and not network_available(GCS_HOST)
    try:
        with _cached_downloads_only(f"keras.applications {name}") if offline else contextlib.nullcontext():
            model = constructor(weights=weights, classifier_activation=None)
    except _NoDownload:
        raise
    except Exception as error:
        raise ValueError(
            f"keras.applications {name} could not get its weights ({first_line(error)}): "
            "check the network, the Keras cache (~/.keras/models) or the weights file."
        ) from None
    size = tuple(model.input_shape[1:3])
    if mode == "caffe":
        model = _caffe_rgb_wrapper(model)
        spec = InputSpec(size=size, channels=3, value_range=(0, 255))
    elif mode == "tf":
        spec = InputSpec(size=size, channels=3, value_range=(-1, 1))
    elif mode == "torch":
        spec = InputSpec(size=size, channels=3, mean=TORCH_MEAN, std=TORCH_STD)
    else:
        spec = InputSpec(size=size, channels=3, value_range=(0, 255))
    return model, spec


def _caffe_rgb_wrapper(base):
    """`base` behind a frozen 1x1 conv: 0-255 RGB -> BGR minus the ImageNet BGR mean."""
    inputs = keras.Input(base.input_shape[1:], name="rgb_0_255")
    swap = keras.layers.Conv2D(3, 1, name="caffe_rgb_to_bgr_minus_mean", trainable=False)
    x = swap(inputs)
    kernel = np.zeros((1, 1, 3, 3), "float32")
    for out_channel in range(3):
        kernel[0, 0, 2 - out_channel, out_channel] = 1.0
    swap.set_weights([kernel, -np.asarray(CAFFE_BGR_MEAN, "float32")])
    return keras.Model(inputs, base(x), name=f"{base.name}_rgb")


@contextlib.contextmanager
def _cached_downloads_only(what):
    """Within, Keras' `get_file` serves cached files only and fails at once otherwise."""
    from keras.src.backend import config
    from keras.src.utils import file_utils

    original = file_utils.get_file

    def get_file(fname=None, origin=None, *args, cache_subdir="datasets", cache_dir=None, **kwargs):
        name = fname or os.path.basename(urllib.parse.urlsplit(origin or "").path)
        bases = [cache_dir or config.keras_home(), os.path.join("/tmp", ".keras")]
        if not any(os.path.exists(os.path.join(os.path.expanduser(b), cache_subdir, name)) for b in bases):
            where = os.path.join(os.path.expanduser(bases[0]), cache_subdir, name)
            raise _NoDownload(
                f"{what} weights are not in the Keras cache ({where}) and cannot be downloaded (no network): "
                "download them on a machine with network into that folder, or pass a local teacher file."
            )
        return original(name, origin, *args, cache_subdir=cache_subdir, cache_dir=cache_dir, **kwargs)

    file_utils.get_file = get_file
    try:
        yield
    finally:
        file_utils.get_file = original


def _from_hf(handle, safe_mode):
    repo_id = handle[len("hf://"):].strip("/")
    if not repo_id:
        raise ValueError(f"teacher {handle!r} names no repository: pass hf://<user>/<repo>.")
    if hub_offline():
        import huggingface_hub

        try:
            folder = huggingface_hub.snapshot_download(repo_id, local_files_only=True)
        except Exception:
            raise ValueError(
                f"Hugging Face model {repo_id} is not in the local cache and cannot be downloaded (no network): "
                f"download it on a machine with network (hf download {repo_id}), or pass a local model folder."
            ) from None
        return _keras_load(pathlib.Path(folder), safe_mode)
    try:
        return keras.saving.load_model(handle, compile=False, safe_mode=safe_mode)
    except Exception as error:
        raise ValueError(
            f"Hugging Face model {repo_id} could not be loaded ({first_line(error)}): check the repository "
            "name and that it holds a Keras model (config.json, model.weights.h5)."
        ) from None


def _from_kerashub(preset):
    import keras_hub

    local = os.path.isdir(os.path.expanduser(preset))
    if local:
        preset = os.path.expanduser(preset)
    else:
        host = hf_endpoint() if preset.startswith("hf://") else KAGGLE_HOST
        if not network_available(host):
            raise ValueError(
                f"keras-hub preset {preset} cannot be downloaded (no network): download it on a machine with "
                "network (ImageClassifier.from_preset(...).save_to_preset(folder)) and pass kerashub:<that folder>."
            )
    try:
        classifier = keras_hub.models.ImageClassifier.from_preset(preset)
    except Exception as error:
        raise ValueError(
            f"keras-hub preset {preset} could not be loaded as an ImageClassifier ({first_line(error)}): "
            "pass an image classification preset or a folder written by save_to_preset()."
        ) from None
    spec = _kerashub_spec(classifier)
    # The bare functional graph: a keras-hub Task would re-apply its preprocessor in predict().
    model = keras.Model(classifier.inputs, classifier.outputs, name=classifier.name)
    return model, spec


def _kerashub_spec(classifier):
    """InputSpec of a keras-hub classifier's image converter (0-255 in, x * scale + offset)."""
    converter = getattr(getattr(classifier, "preprocessor", None), "image_converter", None)
    size = tuple(converter.image_size) if converter is not None and converter.image_size else None
    shape = classifier.inputs[0].shape
    if size is None and shape[1] and shape[2]:
        size = (shape[1], shape[2])
    channels = shape[-1] if shape[-1] in (1, 3) else None
    scale = getattr(converter, "scale", None)
    offset = getattr(converter, "offset", None)
    if scale is None and offset is None:
        return InputSpec(size=size, channels=channels, value_range=(0, 255))
    n = channels or 3
    scale = _per_channel(1.0 if scale is None else scale, n)
    offset = _per_channel(0.0 if offset is None else offset, n)
    # x * scale + offset == (x - mean) / std with std = 1 / scale, mean = -offset / scale.
    return InputSpec(
        size=size,
        channels=channels,
        value_range=(0, 255),
        mean=[-o / s for o, s in zip(offset, scale)],
        std=[1.0 / s for s in scale],
    )


def _per_channel(value, n):
    values = [float(v) for v in np.ravel(value)]
    return values * n if len(values) == 1 else values
