"""aip_keras: the Augmented Image Prior (Asano & Saeed, ICLR 2023) in Keras 3.

Distil a pretrained classifier (the teacher) into a freshly initialised
student using nothing but heavily augmented crops of a single datum.

Sub-modules are imported lazily so that `import aip_keras` stays cheap:

    import aip_keras
    distiller = aip_keras.Distiller(teacher, student, temperature=8.0)
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "Distiller": "aip_keras.distiller",
    "DistillationLoss": "aip_keras.losses",
    "InputSpec": "aip_keras.input_spec",
}
_SUBMODULES = {
    "augment", "datasets", "distiller", "evaluate", "input_spec", "losses",
    "models", "sources", "teachers", "cli", "callbacks", "jobs", "zoo",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"aip_keras.{name}")
    raise AttributeError(f"module 'aip_keras' has no attribute {name!r}")


__all__ = sorted(set(_LAZY) | _SUBMODULES)
