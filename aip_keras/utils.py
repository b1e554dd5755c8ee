"""Small helpers every layer of the package shares: error lines, hashes, seeds, network checks.

This module sits at the bottom of the package: it imports nothing from aip_keras.
"""

import hashlib
import os
import pathlib
import threading
import urllib.error
import urllib.request

import numpy as np
import tensorflow as tf

HF_ENDPOINT = "https://huggingface.co"
TFDS_HOST = "https://storage.googleapis.com"
_TRUE = ("1", "true", "yes", "on")


def first_line(error, limit=240, with_type=True):
    """The first line of an exception (or text), prefixed by its type, cut to `limit` characters.

    Example:

    >>> first_line(ValueError("bad value\\nmore detail"))
    'ValueError: bad value'
    """
    lines = str(error).strip().splitlines()
    if isinstance(error, BaseException) and with_type:
        line = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    else:
        line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def one_line(text):
    """`text` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())


def sha256(path):
    """The hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stateless_seed(seed, salt):
    """An int, scalar tensor or shape-[2] seed -> the int64 shape-[2] seed of `tf.random.stateless_*`.

    `salt` fills the second word of an int seed, so streams of different kinds
    (patches, audio crops) drawn with the same user seed differ.
    """
    if isinstance(seed, (int, np.integer)):
        return tf.constant([int(seed), salt], tf.int64)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank == 0:
        return tf.stack([tf.cast(seed, tf.int64), tf.constant(salt, tf.int64)])
    return tf.cast(seed, tf.int64)


def env_flag(name):
    """Whether environment variable `name` is set to a true value (1, true, yes, on)."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def network_available(url=TFDS_HOST, timeout=3.0):
    """Whether `url` answers within `timeout` seconds (any HTTP status counts).

    Used before any download so that an offline machine fails in seconds rather
    than after minutes of retries. Honours the usual `*_PROXY` variables; set
    `AIP_OFFLINE=1` to skip the check and report no network.

    Example:

    >>> isinstance(network_available("https://storage.googleapis.com", timeout=0.5), bool)
    True
    """
    if os.environ.get("AIP_OFFLINE", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    result = []

    def probe():
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
            result.append(True)
        except urllib.error.HTTPError:  # the server answered: the network is there
            result.append(True)
        except Exception:  # DNS failure, refused, timeout, proxy refusing the tunnel
            result.append(False)

    # A thread, because name resolution ignores socket timeouts.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def hf_endpoint():
    """The Hugging Face Hub address: `$HF_ENDPOINT` or huggingface.co."""
    return os.environ.get("HF_ENDPOINT", HF_ENDPOINT)


def hub_offline():
    """Whether the Hugging Face Hub must not be contacted: `HF_HUB_OFFLINE` set, or no answer in 3 s."""
    return env_flag("HF_HUB_OFFLINE") or not network_available(hf_endpoint())


def cache_dir():
    """The folder for extracted and decoded data: `$AIP_CACHE_DIR` or `~/.cache/aip_keras`.

    Created if missing.

    Example:

    >>> cache_dir().is_dir()
    True
    """
    path = pathlib.Path(os.environ.get("AIP_CACHE_DIR") or "~/.cache/aip_keras").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
