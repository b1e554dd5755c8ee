"""Helpers shared by the tests."""

import contextlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf


def _numpy(value):
    return tf.nest.map_structure(lambda v: v.numpy() if hasattr(v, "numpy") else np.asarray(v), value)


def eager_and_mapped(op, *inputs, passes=1):
    """Runs `op(*inputs)` eagerly, then inside `tf.data.Dataset.map` (graph mode), `passes` times.

    The big_vision check: ops often behave differently traced in a tf.data
    pipeline than eagerly (shapes unknown at trace time, Python-side randomness,
    numpy calls), so every augmentation op and layer is run both ways and the
    outputs compared by the caller.

    Args:
        op: a function or Keras layer; wrap it in a lambda to pass options
            (e.g. `lambda x: layer(x, training=True)`).
        *inputs: its positional inputs (arrays, tensors or Python numbers),
            given to the mapped call as constant tensors.
        passes: how many times to iterate the mapped dataset (a stateful
            layer draws new randomness on each).

    Returns:
        A list of `1 + passes` numpy outputs (nests follow `op`'s output):
        the eager one first, then one per pass inside `Dataset.map`.

    Example:

        eager, mapped = eager_and_mapped(lambda x: x * 2, np.ones(3, "float32"))
    """
    tensors = tuple(tf.convert_to_tensor(x) for x in inputs)
    outputs = [_numpy(op(*tensors))]
    ds = tf.data.Dataset.from_tensors(tensors).repeat(passes).map(lambda *args: op(*args))
    outputs += [_numpy(out) for out in ds]
    return outputs


def assert_one_line_error(excinfo, *fragments):
    """The raised error is one line, `<what is wrong>: <how to fix it>`, and holds every fragment."""
    message = str(excinfo.value)
    assert "\n" not in message and ": " in message, message
    for fragment in fragments:
        assert fragment in message, message


def tone(seconds=1.0, rate=8000, freq=440.0, amp=0.5, channels=1):
    """A float32 sine of `freq` Hz: `(samples,)`, or `(samples, channels)` with the same wave in each."""
    t = np.arange(int(seconds * rate)) / rate
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x] * channels, -1) if channels > 1 else x


def aip(*args, timeout=300):
    """Runs the `aip` command (`python -m aip_keras.cli`) and returns the finished process, output captured."""
    return subprocess.run([sys.executable, "-m", "aip_keras.cli", *args],
                          capture_output=True, text=True, timeout=timeout)


def random_images(shape, seed=0):
    """Float32 images in [0, 1) of `shape`, seeded."""
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def input_output_pairs(layer, x):
    """[(input, output)] pairs: once eagerly, then two passes inside Dataset.map (`eager_and_mapped`)."""
    return [(x, out) for out in eager_and_mapped(layer, x, passes=2)]


def assert_unit_range(y):
    """A float32 batch with every value in [0, 1]."""
    assert y.dtype == np.float32
    assert y.min() >= 0.0 and y.max() <= 1.0


@contextlib.contextmanager
def fresh_data_cache(tmp_path_factory, shared_data):
    """Within, aip_keras decodes data into a new empty cache folder (yielded) from the shared data folder."""
    cache = tmp_path_factory.mktemp("aip_cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("AIP_CACHE_DIR", str(cache))
    patch.setenv("AIP_SHARED_DATA", str(shared_data))
    try:
        yield cache
    finally:
        patch.undo()
