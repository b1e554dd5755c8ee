"""aip_keras: the Augmented Image Prior (Asano & Saeed, ICLR 2023) in Keras 3.

Distil a pretrained classifier (the teacher) into a freshly initialised
student using nothing but heavily augmented crops of a single datum.

Sub-modules are imported lazily so that `import aip_keras` stays cheap (and
the `aip` command can start TensorFlow quietly):

    import aip_keras
    distiller = aip_keras.Distiller(teacher, student, temperature=8.0)

A saved audio model carries the custom `LogMel` / `SpecAugment` layers; import
`aip_keras.front_end` before `keras.saving.load_model` to register them.
See `docs/architecture.md` for the layers of the package.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "Distiller": "aip_keras.distiller",
    "DistillationLoss": "aip_keras.losses",
    "InputSpec": "aip_keras.input_spec",
    "DistillConfig": "aip_keras.config",
    "TeacherConfig": "aip_keras.config",
}
_SUBMODULES = {
    "atomic", "augment", "callbacks", "cli", "config", "datasets", "decode", "distiller", "evaluate",
    "front_end", "input_spec", "jobs", "losses", "model_facts", "models", "plots", "sources", "teachers",
    "tuning", "utils", "zoo",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"aip_keras.{name}")
    raise AttributeError(f"module 'aip_keras' has no attribute {name!r}")


__all__ = sorted(set(_LAZY) | _SUBMODULES)
