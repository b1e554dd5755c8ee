"""One image -> an endless, seeded stream of heavily augmented patches; patch banks; `SingleImageSource`.

This is the 2020 "single image" patch generator that the Augmented Image Prior
distils from (Asano & Saeed, ICLR 2023; Asano, Rupprecht & Vedaldi, ICLR 2020).
The image is loaded once by `aip_keras.decode.image.load_image` (a path, an
array or a bundled photo name); each patch is made by `PatchChain`
(`aip_keras.sources.image_chain`, which documents the steps).

Output is float32, channels-last, in [0, 1]. All randomness is stateless:
patch `i` of a stream with seed `s` depends only on `(s, i)`, so streams are
identical across runs, batch sizes and parallel map settings.
"""

import os

import numpy as np
import tensorflow as tf

from aip_keras.decode.image import describe_image, load_image
from aip_keras.sources.image_chain import PatchChain, image_seed

_CIFAR_EPOCH = 50_000
_IMAGENET_EPOCH = 1_281_167


def patches_per_epoch(patch_size):
    """Patches in one "epoch" of a single-image stream, by patch side.

    The rule follows the paper's two settings: below 224 pixels an epoch is
    CIFAR-sized (50,000 patches); at 224 and above it is ImageNet-sized
    (1,281,167 patches).

    Example:

    >>> patches_per_epoch(32), patches_per_epoch(224)
    (50000, 1281167)
    """
    patch_size = int(patch_size)
    if patch_size < 1:
        raise ValueError(f"patch_size must be a positive int, got {patch_size}: pass e.g. 32")
    return _IMAGENET_EPOCH if patch_size >= 224 else _CIFAR_EPOCH


_epoch_rule = patches_per_epoch  # shadowed by arguments of the same name below


# --------------------------------------------------------------------------
# Functional API
# --------------------------------------------------------------------------


def patch_chain(image, seed=0, patch_size=32, **chain_kwargs):
    """One augmented patch of `image` (eagerly or inside `tf.data`).

    Args:
        image: `(H, W, 3)` uint8 or float [0, 1] array / tensor.
        seed: int or shape-[2] int tensor (stateless).
        patch_size: output side S.
        **chain_kwargs: `PatchChain` arguments (`channels`, ranges, ...).

    Returns:
        float32 `(S, S, channels)` tensor in [0, 1].

    Example:

    >>> patch_chain(load_image("chelsea"), seed=1, patch_size=32).shape
    TensorShape([32, 32, 3])
    """
    return PatchChain(patch_size, **chain_kwargs)(image, seed)


def sample_crop_boxes(image_shape, num, seed=0, patch_size=32, **chain_kwargs):
    """Crop boxes of the first `num` patches of the stream with `seed`.

    Example:

    >>> boxes = sample_crop_boxes((300, 451), 100)
    >>> bool((boxes["area_fraction"] >= 1 / 500).all())
    True
    """
    return PatchChain(patch_size, **chain_kwargs).sample_crop_boxes(image_shape, num, seed)


def single_image_dataset(
    image,
    patch_size=32,
    batch_size=None,
    seed=0,
    channels=3,
    patches_per_epoch=None,
    **chain_kwargs,
):
    """An endless, seeded `tf.data.Dataset` of augmented patches of one image.

    Yields `x` only (no labels): `(S, S, C)` patches, or `(B, S, S, C)`
    batches (full batches only) if `batch_size` is given. Patch `i` depends
    only on `(seed, i)` (stateless random ops, deterministic parallel map), so
    the same seed gives the same stream whatever the batch size.

    Args:
        image: path, array or photo name (see `load_image`; `"noise"` uses
            `seed` too).
        patch_size: patch side S.
        batch_size: batch size, or None for single patches.
        seed: int seed of the stream.
        channels: 3 (RGB) or 1 (grey, luma).
        patches_per_epoch: None for an endless stream; an int N for a finite
            dataset of N patches (rounded up to whole batches) per iteration,
            where each new iteration continues the stream with new patches
            (see `patches_per_epoch()` for the paper's sizes).
        **chain_kwargs: other `PatchChain` arguments.

    Example:

    >>> ds = single_image_dataset("astronaut", patch_size=32, batch_size=8)
    >>> next(iter(ds)).shape
    TensorShape([8, 32, 32, 3])
    """
    array = load_image(image, seed=seed)
    chain = PatchChain(patch_size, channels=channels, **chain_kwargs)
    chain.check_image_size(array.shape, name=f"image {describe_image(image)!r}")
    return chain.dataset(array, batch_size=batch_size, seed=seed, patches_per_epoch=patches_per_epoch)


def patch_bank(image, num_patches, patch_size=32, seed=0, channels=3, batch_size=256, **chain_kwargs):
    """Materialises `num_patches` patches once, as the paper's code did.

    The bank holds exactly the first `num_patches` patches of
    `single_image_dataset(image, patch_size, seed=seed, ...)`.

    Returns:
        float32 numpy array `(N, S, S, channels)` in [0, 1] (N * S * S * C * 4
        bytes: 614 MB for 50,000 RGB patches at S=32).

    Example:

    >>> patch_bank("coffee", 10, patch_size=16).shape
    (10, 16, 16, 3)
    """
    num_patches = int(num_patches)
    if num_patches < 1:
        raise ValueError(f"num_patches must be a positive int, got {num_patches}: pass e.g. 50000")
    array = load_image(image, seed=seed)
    chain = PatchChain(patch_size, channels=channels, **chain_kwargs)
    chain.check_image_size(array.shape, name=f"image {describe_image(image)!r}")
    return _fill_bank(chain, array, num_patches, seed, batch_size)


def _fill_bank(chain, array, num_patches, seed, batch_size):
    batch = max(1, min(int(batch_size), num_patches))
    s = chain.patch_size
    bank = np.empty((num_patches, s, s, chain.channels), np.float32)
    done = 0
    for x in chain.dataset(array, batch_size=batch, seed=seed):
        take = min(batch, num_patches - done)
        bank[done : done + take] = x.numpy()[:take]
        done += take
        if done == num_patches:
            break
    return bank


def patch_bank_dataset(bank, batch_size, seed=0):
    """An endless, shuffled stream of full batches drawn from a patch bank.

    Every pass over the bank is a fresh seeded permutation (stateless, so the
    stream depends only on `seed`); batches may straddle passes.

    Example:

    >>> bank = np.zeros((10, 8, 8, 3), "float32")
    >>> next(iter(patch_bank_dataset(bank, 4))).shape
    TensorShape([4, 8, 8, 3])
    """
    bank = np.asarray(bank)
    if bank.ndim != 4 or bank.shape[0] == 0:
        raise ValueError(
            f"patch bank has shape {bank.shape}, expected (N, S, S, C) with N >= 1: pass patch_bank(...)'s output"
        )
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    bank_t = tf.constant(bank)
    n = bank.shape[0]
    base = image_seed(int(seed))

    def one_pass(epoch):
        key = tf.random.experimental.stateless_fold_in(base, epoch)
        order = tf.argsort(tf.random.stateless_uniform([n], key))
        return tf.data.Dataset.from_tensor_slices(order)

    ds = tf.data.Dataset.counter().flat_map(one_pass)
    ds = ds.batch(int(batch_size), drop_remainder=True)
    ds = ds.map(lambda idx: tf.gather(bank_t, idx), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


# --------------------------------------------------------------------------
# Bundled settings
# --------------------------------------------------------------------------


class SingleImageSource:
    """One image plus patch-chain settings: streams, banks and a config.

    The image is loaded once. `get_config()` is a plain JSON-friendly dict;
    the image is stored by its name or path. Arrays are **not** serialised:
    a source built from an array stores `"image": None` and `from_config`
    then needs `image=` passed explicitly.

    Args:
        image: path, photo name or array (see `load_image`).
        patch_size: patch side S.
        channels: 3 (RGB) or 1 (grey).
        image_seed: seed of the `"noise"` image (the stream seed is given to
            `dataset` / `bank`).
        **chain_kwargs: other `PatchChain` arguments.

    Example:

    >>> source = SingleImageSource("chelsea", patch_size=32)
    >>> next(iter(source.dataset(batch_size=4, seed=0))).shape
    TensorShape([4, 32, 32, 3])
    >>> SingleImageSource.from_config(source.get_config()).get_config() == source.get_config()
    True
    """

    def __init__(self, image="hubble_deep_field", patch_size=32, channels=3, image_seed=0, **chain_kwargs):
        self.image_name = (
            str(image) if isinstance(image, (str, os.PathLike)) else None
        )
        self.image_seed = int(image_seed)
        self.image = load_image(image, seed=self.image_seed)
        self.chain = PatchChain(patch_size, channels=channels, **chain_kwargs)
        self.chain.check_image_size(self.image.shape, name=f"image {describe_image(image)!r}")

    @property
    def patch_size(self):
        return self.chain.patch_size

    @property
    def channels(self):
        return self.chain.channels

    def patches_per_epoch(self):
        """`patches_per_epoch(patch_size)`: 50,000 below 224, else 1,281,167."""
        return _epoch_rule(self.chain.patch_size)

    def dataset(self, batch_size=None, seed=0, patches_per_epoch=None):
        """The patch stream (see `single_image_dataset`)."""
        return self.chain.dataset(self.image, batch_size=batch_size, seed=seed, patches_per_epoch=patches_per_epoch)

    def bank(self, num_patches, seed=0, batch_size=256):
        """`num_patches` materialised patches (see `patch_bank`)."""
        num_patches = int(num_patches)
        if num_patches < 1:
            raise ValueError(f"num_patches must be a positive int, got {num_patches}: pass e.g. 50000")
        return _fill_bank(self.chain, self.image, num_patches, seed, batch_size)

    def get_config(self):
        return {"image": self.image_name, "image_seed": self.image_seed, **self.chain.get_config()}

    @classmethod
    def from_config(cls, config, image=None):
        config = dict(config)
        stored = config.pop("image", None)
        image = stored if image is None else image
        if image is None:
            raise ValueError(
                "SingleImageSource config has no image (it was built from an array, "
                "which is not serialised): pass image=<array or path> to from_config"
            )
        return cls(image, **config)

    def __repr__(self):
        return f"SingleImageSource(image={self.image_name or 'array'!r}, patch_size={self.patch_size}, channels={self.channels})"
