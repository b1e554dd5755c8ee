"""What every labelled set shares: `LabelledSet`, the example stores it views, splits and caches.

A store holds the examples (`ArraySource` in memory, `FileSource` decoding
image files, `StreamSource` reading a tfds pipeline in order); a `LabelledSet`
views some of them (by index) and yields batched `(x, y)`. The modality
modules (`image`, `audio`, `video`) build their stores and sets from these.

Also here: where the shared real data lives (`shared_data_dir`), the
decoded-once cache of a tar (`ensure_decoded_cache`, used for the CIFAR-10
and FSDD tars), the class-folder scan shared by image and audio folders, and
the tfds builder checks shared by image and audio tfds sets.
"""

import dataclasses
import json
import os
import pathlib
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from aip_keras.utils import TFDS_HOST, network_available, sha256

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent
"""The `aip_keras` package folder (its `data/` holds the bundled Fashion-MNIST test split)."""


# --------------------------------------------------------------------------- places


def shared_data_dir():
    """The shared real-data folder: `$AIP_SHARED_DATA`, else `<repo>/../shared/data` if present.

    Returns:
        A `pathlib.Path`, or None when neither is set or present.
    """
    env = os.environ.get("AIP_SHARED_DATA")
    if env:
        return pathlib.Path(env).expanduser()
    candidate = PACKAGE_DIR.parent.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


# --------------------------------------------------------------------------- stores
# A store holds the examples; a LabelledSet views some of them (by index).


class ArraySource:
    """Examples held in memory as uint8 `(N, H, W, C)` images and int32 labels."""

    def __init__(self, images, labels):
        self.images = images
        self.labels = labels.astype(np.int32)
        self._tensor = None

    def __len__(self):
        return len(self.labels)

    def tensors(self):
        """`(images, labels)` as tensors, made once (a CIFAR-10 split is 150 MB)."""
        if self._tensor is None:
            self._tensor = (tf.constant(self.images), tf.constant(self.labels))
        return self._tensor

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        images, labels = self.tensors()
        ds = tf.data.Dataset.from_tensor_slices(indices.astype(np.int64))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)

        def gather(idx):
            x = tf.cast(tf.gather(images, idx), tf.float32) / 255.0
            return resize(x, image_size), tf.gather(labels, idx)

        return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def arrays(self, indices, image_size):
        x = self.images[indices].astype(np.float32) / 255.0
        if image_size is not None and tuple(x.shape[1:3]) != tuple(image_size):
            x = resize(tf.constant(x), image_size).numpy()
        return x, self.labels[indices]


class FileSource:
    """Examples as image files, decoded (and resized) on the fly."""

    def __init__(self, paths, labels, channels):
        self.paths = np.asarray(paths, dtype=object)
        self.labels = np.asarray(labels, dtype=np.int32)
        self.channels = channels

    def __len__(self):
        return len(self.labels)

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        paths = [str(p) for p in self.paths[indices]]
        ds = tf.data.Dataset.from_tensor_slices((paths, self.labels[indices]))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        channels = self.channels

        def decode(path, label):
            image = tf.io.decode_image(tf.io.read_file(path), channels=0, expand_animations=False)
            x = to_channels(tf.cast(image, tf.float32) / 255.0, channels)
            return resize(x, image_size), label

        ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size)


class StreamSource:
    """Examples read in a fixed order from a tf.data pipeline (tfds); no random access."""

    def __init__(self, make, size):
        self.make = make  # () -> unbatched Dataset of (uint8 image, label)
        self.size = size

    def __len__(self):
        return self.size

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        ds = stream_subset(self.make(), indices, self.size, shuffle, seed)

        def convert(image, label):
            x = tf.cast(image, tf.float32) / 255.0
            return resize(x, image_size), tf.cast(label, tf.int32)

        ds = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size)


def stream_subset(ds, indices, size, shuffle, seed):
    """The examples `indices` of an in-order stream `ds` of `size` examples, shuffled if asked."""
    if len(indices) != size or np.any(indices != np.arange(size)):
        keep = np.zeros(size, bool)
        keep[indices] = True
        keep = tf.constant(keep)
        ds = ds.enumerate().filter(lambda i, example: tf.gather(keep, i))
        ds = ds.map(lambda i, example: example)
        ds = ds.apply(tf.data.experimental.assert_cardinality(len(indices)))
    if shuffle:
        ds = ds.shuffle(min(len(indices), 10_000), seed=seed, reshuffle_each_iteration=True)
    return ds


def resize(x, image_size):
    """Resizes an image or batch to `image_size` only if its size differs."""
    if image_size is None:
        return x
    size = tf.constant(image_size, tf.int32)
    shape = tf.shape(x)
    hw = shape[-3:-1]
    resized = tf.cond(
        tf.reduce_all(tf.equal(hw, size)),
        lambda: x,
        lambda: tf.clip_by_value(tf.image.resize(x, size, antialias=True), 0.0, 1.0),
    )
    static = x.shape.as_list()
    static[-3:-1] = list(image_size)
    return tf.ensure_shape(resized, static)


def to_channels(x, channels):
    """Float `(H, W, c)` with c in 1..4 -> `(H, W, channels)`: alpha dropped, grey repeated."""
    c = tf.shape(x)[-1]
    if channels == 1:
        out = tf.cond(c >= 3, lambda: tf.image.rgb_to_grayscale(x[..., :3]), lambda: x[..., :1])
    else:
        out = tf.cond(c >= 3, lambda: x[..., :3], lambda: tf.repeat(x[..., :1], 3, axis=-1))
    return tf.ensure_shape(out, [None, None, channels])


# --------------------------------------------------------------------------- LabelledSet


@dataclasses.dataclass(frozen=True)
class LabelledSet:
    """A real labelled image set (or a seeded subset of one).

    Attributes:
        name: what it was loaded from (`"cifar10"`, `"tfds:mnist"`, a folder path).
        split: the split (`"test"`, `"train"`, or `"train-fit"` / `"train-val"`
            after `split_validation`).
        num_classes: number of classes; labels are `0 .. num_classes - 1`.
        class_names: the class names, indexed by label.
        image_shape: `(height, width, channels)` of the images it yields.
        num_examples: number of examples.
        examples: the store of the examples (`ArraySource`, `FileSource`, ...).
        indices: the store indices this set views, or None for all of them.
        resize_to: `(height, width)` the images are resized to, or None.

    Example:

    >>> from aip_keras.datasets import load
    >>> test = load("fashion_mnist", split="test")
    >>> x, y = next(iter(test.dataset(32, shuffle=True, seed=0)))
    >>> x.shape, x.dtype.name, y.dtype.name
    (TensorShape([32, 28, 28, 1]), 'float32', 'int32')
    """

    name: str
    split: str
    num_classes: int
    class_names: tuple
    image_shape: tuple
    num_examples: int
    examples: object = dataclasses.field(repr=False, compare=False, default=None)
    indices: object = dataclasses.field(repr=False, compare=False, default=None)
    resize_to: object = dataclasses.field(repr=False, compare=False, default=None)

    def dataset(self, batch_size, shuffle=False, seed=0, limit=None):
        """Batched, prefetched `(x, y)`: x float32 `(B, H, W, C)` in [0, 1], y int32 `(B,)`.

        Args:
            batch_size: examples per batch (the last batch may be smaller).
            shuffle: reshuffle every pass (seeded: same seed, same order).
            seed: seeds the shuffle and the `limit` subset.
            limit: use only this many examples: a seeded *random* subset (never
                the first N, which in CIFAR-10's test split are all airplanes).

        Returns:
            A `tf.data.Dataset` of known cardinality.
        """
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size}: pass e.g. 256.")
        indices = self.select(limit, seed)
        ds = self.examples.dataset(indices, int(batch_size), shuffle, int(seed), self.resize_to)
        return ds.prefetch(tf.data.AUTOTUNE)

    def arrays(self, limit=None, seed=0):
        """All (or a seeded random `limit` of the) examples as `(x float32, y int32)` arrays.

        Meant for small sets: the whole selection is held in memory as float32.
        """
        indices = self.select(limit, seed)
        nbytes = len(indices) * int(np.prod(self.image_shape)) * 4
        if nbytes > 4 * 2**30:
            raise ValueError(
                f"{self.name} {self.split} is {nbytes / 2**30:.1f} GiB as float32, too large "
                "for arrays(): pass limit=... or iterate dataset() instead."
            )
        if hasattr(self.examples, "arrays"):  # held in memory
            return self.examples.arrays(indices, self.resize_to)
        xs, ys = [], []
        for x, y in self.examples.dataset(indices, 512, False, int(seed), self.resize_to):
            xs.append(x.numpy())
            ys.append(y.numpy())
        if not xs:
            return np.zeros((0, *self.image_shape), np.float32), np.zeros((0,), np.int32)
        return np.concatenate(xs), np.concatenate(ys).astype(np.int32)

    def all_indices(self):
        """The store indices of every example of this set."""
        if self.indices is None:
            return np.arange(len(self.examples))
        return self.indices

    def select(self, limit, seed):
        """The store indices of all examples, or of a seeded random `limit` of them."""
        indices = self.all_indices()
        if limit is None:
            return indices
        limit = int(limit)
        if limit < 1:
            raise ValueError(f"limit must be a positive int or None, got {limit}: pass e.g. 1000.")
        if limit >= len(indices):
            return indices
        order = np.random.default_rng(int(seed)).permutation(len(indices))[:limit]
        return indices[order]

    def subset(self, indices, split):
        """The same set restricted to the store `indices`, named `split`."""
        indices = np.asarray(indices, np.int64)
        return dataclasses.replace(self, split=split, num_examples=len(indices), indices=indices)


def split_validation(train_set, fraction=0.1, seed=0):
    """Splits a set into disjoint, seeded random `(fit, validation)` subsets.

    Args:
        train_set: a `LabelledSet` (usually the `"train"` split).
        fraction: share of examples held out for validation, in (0, 1).
        seed: same seed, same split.

    Returns:
        `(fit_set, val_set)`, with splits named `"<split>-fit"` and `"<split>-val"`.

    Example:

    >>> from aip_keras.datasets import load
    >>> test = load("fashion_mnist", split="test")
    >>> fit, val = split_validation(test, fraction=0.2, seed=0)
    >>> fit.num_examples, val.num_examples
    (8000, 2000)
    """
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction}: pass e.g. 0.1.")
    indices = train_set.all_indices()
    n = len(indices)
    n_val = int(round(n * fraction))
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"a {fraction:g} validation share of {n} examples leaves an empty part: "
            "use more examples or another fraction."
        )
    order = np.random.default_rng(int(seed)).permutation(n)
    val = np.sort(indices[order[:n_val]])
    fit = np.sort(indices[order[n_val:]])
    return (
        train_set.subset(fit, f"{train_set.split}-fit"),
        train_set.subset(val, f"{train_set.split}-val"),
    )


def dataset_name(name, valid):
    """A dataset name or path as text; a one-line ValueError for anything else."""
    if not isinstance(name, (str, os.PathLike)):
        raise ValueError(f"dataset name must be a string or a path, got {type(name).__name__}: use {valid}.")
    return os.fspath(name)


def check_not_a_path(text):
    """Raises a one-line ValueError if `text` (no existing folder) looks like a path: that folder is missing."""
    if os.sep in text or (os.altsep and os.altsep in text) or text.startswith("."):
        raise ValueError(f"dataset folder {text} does not exist: pass an existing folder of class sub-folders.")


def check_split(split, name):
    """Raises unless `split` is `"train"` or `"test"` (the splits of the named sets)."""
    if split not in ("train", "test"):
        raise ValueError(f"{name} has splits 'train' and 'test', not {split!r}: pass split='train' or 'test'.")


# --------------------------------------------------------------------------- class folders


def subdirs(folder):
    """The visible sub-folders of `folder`, sorted by name."""
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def is_hidden(path, base):
    """Whether `path` (under `base`) is in a hidden folder or is a hidden file."""
    return any(part.startswith(".") for part in path.relative_to(base).parts)


def split_folder(root, split):
    """`(folder, class sub-folders)`: `root/<split>` if `root`'s sub-folders are splits, else `root`."""
    folders = subdirs(root)
    if folders and all(subdirs(d) for d in folders):  # split sub-folders, each of class sub-folders
        if not (root / split).is_dir():
            raise ValueError(
                f"dataset folder {root} has split sub-folders {[d.name for d in folders]} but no "
                f"{split!r}: pass split= one of them."
            )
        root = root / split
        folders = subdirs(root)
    return root, folders


def scan_class_folders(class_dirs, extensions):
    """The files of each class folder with one of `extensions` (lower-case, with the dot).

    Returns:
        `(paths, labels, skipped, empty)`: the files found and their class ids,
        the other files, and the names of the class folders with none.
    """
    paths, labels, skipped, empty = [], [], [], []
    for label, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.rglob("*") if p.is_file() and not is_hidden(p, class_dir))
        found = [p for p in files if p.suffix.lower() in extensions]
        skipped += [p for p in files if p.suffix.lower() not in extensions]
        if not found:
            empty.append(class_dir.name)
        paths += found
        labels += [label] * len(found)
    return paths, labels, skipped, empty


# --------------------------------------------------------------------------- tfds


def tfds_builder(tfds_name, data_dir):
    """The tfds builder of `tfds_name`; a one-line ValueError for an unknown name."""
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(tfds_name, data_dir=None if data_dir is None else str(data_dir))
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"tfds has no dataset {tfds_name!r}: check the name at https://www.tensorflow.org/datasets/catalog."
        ) from None


def prepare_tfds(builder, tfds_name, instead):
    """Downloads and prepares a tfds set unless it is there; fails in seconds without network.

    `instead` ends the error message: what to pass rather than a download.
    """
    if not builder.is_prepared():
        if not network_available(TFDS_HOST):
            raise ValueError(
                f"tfds dataset {tfds_name} is not in {builder.data_dir_root} and cannot be downloaded (no network): "
                f"download it on a machine with network, or {instead}."
            )
        builder.download_and_prepare()


def tfds_split_size(builder, display, split):
    """The number of examples of a tfds split; a one-line ValueError for a split it does not have."""
    try:
        return builder.info.splits[split].num_examples
    except (KeyError, ValueError):
        raise ValueError(f"{display} has splits {sorted(builder.info.splits)}, not {split!r}: pass one of them.") from None


# --------------------------------------------------------------------------- decoded caches


def ensure_decoded_cache(tar, cache, version, decode, **info_extra):
    """Runs `decode(tar, folder) -> info` once into `cache` (atomically), unless `cache` already holds
    the decoding of this tar's bytes (sha256) by this cache `version`."""
    digest = sha256(tar)
    info_path = cache / "info.json"
    if info_path.exists():
        info = json.loads(info_path.read_text())
        if info.get("sha256") == digest and info.get("version") == version:
            return
    cache.parent.mkdir(parents=True, exist_ok=True)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix=f".{cache.name}.", dir=cache.parent))
    try:
        tmp = workdir / cache.name
        tmp.mkdir()
        info = decode(tar, tmp)
        info.update(sha256=digest, version=version, source=str(tar), **info_extra)
        (tmp / "info.json").write_text(json.dumps(info, indent=2) + "\n")
        if cache.exists():
            shutil.rmtree(cache, ignore_errors=True)
        try:
            os.replace(tmp, cache)
        except OSError:
            # Another process finished first; keep its (identical) result.
            if not info_path.exists():
                raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def save_npy(path, array):
    """Writes one array as `.npy` (no pickles)."""
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)
