"""A model folder in Keras' layout: loading it safely, what it needs to load, what it takes as input.

A zoo entry's model is what `model.save(folder, zipped=False)` writes
(`config.json`, `model.weights.h5`, `metadata.json`). This module reads the
config before Keras does: custom objects that are neither Keras' own nor
registered by aip_keras (or keras_hub) are refused, and `requires(config)` says
which package a plain `keras.saving.load_model` needs imported first.

Example:

>>> requires({"class_name": "Functional", "config": {"layers": [
...     {"class_name": "LogMel", "module": "aip_keras.front_end", "registered_name": "aip_keras>LogMel"}]}})
['aip_keras']
"""

import importlib
import json
import pathlib

import keras

# Imported for their side effect too: they register aip_keras' Keras classes (LogMel, SpecAugment,
# InputSpec, the losses and augmentation layers) that a saved model may name.
from aip_keras import augment, front_end, losses  # noqa: F401
from aip_keras.input_spec import InputSpec, spec_for_model
from aip_keras.model_facts import audio_format
from aip_keras.utils import first_line

# Optional packages whose registered Keras classes may appear in a zoo model: imported on demand.
OPTIONAL_PACKAGES = {"keras_hub": ("keras_hub",)}
PLAIN_KERAS = "keras"
# The module whose import registers a package's custom Keras classes (the package itself when absent):
# `import aip_keras` stays lazy (it imports no TensorFlow), its audio layers live in aip_keras.front_end.
REGISTERING_MODULES = {"aip_keras": "aip_keras.front_end"}


def registering_import(package):
    """The `import ...` statement that registers `package`'s custom Keras classes."""
    return f"import {REGISTERING_MODULES.get(package, package)}"


def custom_objects(config):
    """The registered names of the non-Keras classes a Keras model config uses, sorted.

    Example:

    >>> custom_objects({"class_name": "Dense", "module": "keras.layers", "config": {}})
    []
    """
    found = set()

    def walk(node):
        if isinstance(node, dict):
            module = node.get("module")
            if "class_name" in node and isinstance(module, str) and module != "keras" \
                    and not module.startswith("keras."):
                found.add(node.get("registered_name") or f"{module}.{node['class_name']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(config)
    return sorted(found)


def package_of(registered_name):
    """The package of a registered name: `"aip_keras>LogMel"` -> `"aip_keras"`, `"pkg.mod.Cls"` -> `"pkg"`."""
    if ">" in registered_name:
        return registered_name.split(">", 1)[0]
    return registered_name.split(".", 1)[0]


def requires(config):
    """What a plain `keras.saving.load_model` of this config needs imported: `["keras"]` or the packages.

    `["keras"]`: Keras' own classes only (any Keras 3 loads it); otherwise the
    packages that register its custom classes (e.g. `["aip_keras"]`).
    """
    packages = sorted({package_of(name) for name in custom_objects(config)})
    return packages or [PLAIN_KERAS]


def unknown_custom_objects(config):
    """The custom objects of a config that are not registered (after importing the known optional packages)."""
    found = custom_objects(config)
    for package, modules in OPTIONAL_PACKAGES.items():
        if any(package_of(name) == package for name in found):
            for module in modules:
                try:
                    importlib.import_module(module)
                except ImportError:
                    pass
    registered = keras.saving.get_custom_objects()
    return [name for name in found if name not in registered]


def read_config(folder, what):
    """The parsed `config.json` of a model folder (a one-line ValueError if missing or invalid)."""
    folder = pathlib.Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file() or not (folder / "model.weights.h5").is_file():
        raise ValueError(
            f"{what} at {folder} lacks config.json or model.weights.h5: it must hold what "
            "model.save(folder, zipped=False) writes."
        )
    try:
        return json.loads(config_path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{what}: config.json is not valid JSON ({error}): re-save or re-download it.") from None


def load_folder(folder, safe_mode=True, what=None):
    """Loads a model folder in Keras' layout, refusing unknown custom objects.

    Args:
        folder: a folder with `config.json` and `model.weights.h5`.
        safe_mode: Keras' safe mode.
        what: how to name the model in errors.
    """
    folder = pathlib.Path(folder)
    what = what or f"model folder {folder}"
    unknown = unknown_custom_objects(read_config(folder, what))
    if unknown:
        raise ValueError(
            f"{what} uses custom objects that are not registered Keras or aip_keras classes "
            f"({', '.join(unknown)}): refusing to load it; only load models whose code you trust, "
            "by importing the package that registers them and calling keras.saving.load_model yourself."
        )
    try:
        return keras.saving.load_model(str(folder), compile=False, safe_mode=safe_mode)
    except Exception as error:  # Keras raises many kinds for bad files
        full = str(error)
        if "safe_mode" in full or "arbitrary code" in full:
            fix = "it contains a Lambda layer (arbitrary code), which the zoo refuses"
        else:
            fix = "re-download it (aip zoo pull) or regenerate the entry"
        raise ValueError(f"{what} cannot be loaded ({first_line(error)}): {fix}.") from None


def spec_dict(model):
    """What the card and index say about a model's input (images: an InputSpec; audio: rate and length)."""
    rank = len(model.inputs[0].shape)
    if rank == 2:
        fmt = audio_format(model)
        return {"modality": "audio", "sample_rate": fmt["sample_rate"], "samples": fmt["samples"],
                "value_range": [-1.0, 1.0]}
    if rank == 5:
        frames, height, width, channels = model.inputs[0].shape[1:]
        return {"modality": "video", "frames": frames, "size": [height, width], "channels": channels,
                "value_range": [0.0, 1.0], "sample_rate": None}
    return {**spec_for_model(model).to_dict(), "sample_rate": None}


def input_spec(spec, model):
    """The `InputSpec` of an image model from its recorded spec dict; None for waveform and clip models."""
    if (spec or {}).get("modality") in ("audio", "video") or len(model.inputs[0].shape) in (2, 5):
        return None
    if not spec:
        return spec_for_model(model)
    keys = ("size", "channels", "value_range", "mean", "std", "interpolation")
    return InputSpec(**{k: spec[k] for k in keys if spec.get(k) is not None})
