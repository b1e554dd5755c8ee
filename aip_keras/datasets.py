"""Real labelled image sets, for judging a distilled student against its teacher.

`load(name, split)` returns a `LabelledSet`: its metadata (classes, image shape,
size) and `.dataset()` / `.arrays()` giving `(x, y)` with `x` float32,
channels-last, in [0, 1] and `y` int32 class ids. Names:

- `"cifar10"`: the CIFAR-10 JPEG tar in the shared data folder, decoded once into
  uint8 `.npy` files in `cache_dir()`; without the tar, tfds' `cifar10`.
- `"fashion_mnist"`: gzipped IDX files from `data_dir`, else Debian's
  `/usr/share/datasets/fashion-mnist/`, else the test split bundled with this package.
- `"tfds:<name>"`: a TensorFlow Datasets set with `image` and `label` features.
- a folder: one sub-folder of images per class (optionally under `<split>/`).
- `"fsdd"` (audio): the Free Spoken Digit Dataset tar in the shared data folder, as
  1 s waveforms at 16 kHz. `load_audio(name, split, sample_rate=, clip_seconds=)`
  is the audio entry point: `"fsdd"`, `"tfds:<name>"` with an `audio` feature
  (e.g. `tfds:speech_commands`), or a folder of class sub-folders of audio files;
  it returns an `AudioLabelledSet` yielding `(x, y)` with x float32 `(B, samples)`
  waveforms in [-1, 1].

Nothing here waits on a network that is not there: downloads are attempted only
after a 3-second reachability check, and fail with a one-line `ValueError`.
"""

import dataclasses
import gzip
import hashlib
import json
import os
import pathlib
import shutil
import struct
import tarfile
import tempfile
import threading
import urllib.error
import urllib.request
import warnings

import numpy as np
import tensorflow as tf

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
BUNDLED_FASHION_MNIST = PACKAGE_DIR / "data" / "fashion_mnist"
DEBIAN_FASHION_MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
CIFAR10_TAR = "cifar10-jpeg.tar.gz"
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
VALID_NAMES = "'cifar10', 'fashion_mnist', 'fsdd', 'cifar10_clips', 'tfds:<name>' or a folder of class sub-folders"
TFDS_HOST = "https://storage.googleapis.com"
_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_CACHE_VERSION = 1


# --------------------------------------------------------------------------- places


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


# --------------------------------------------------------------------------- sources
# A source holds the examples; a LabelledSet views some of them (by index).


class _ArraySource:
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
            return _resize(x, image_size), tf.gather(labels, idx)

        return ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def arrays(self, indices, image_size):
        x = self.images[indices].astype(np.float32) / 255.0
        if image_size is not None and tuple(x.shape[1:3]) != tuple(image_size):
            x = _resize(tf.constant(x), image_size).numpy()
        return x, self.labels[indices]


class _FileSource:
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
            x = _to_channels(tf.cast(image, tf.float32) / 255.0, channels)
            return _resize(x, image_size), label

        ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size)


class _StreamSource:
    """Examples read in a fixed order from a tf.data pipeline (tfds); no random access."""

    def __init__(self, make, size):
        self.make = make  # () -> unbatched Dataset of (uint8 image, label)
        self.size = size

    def __len__(self):
        return self.size

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        ds = self.make()
        if len(indices) != self.size or np.any(indices != np.arange(self.size)):
            keep = np.zeros(self.size, bool)
            keep[indices] = True
            keep = tf.constant(keep)
            ds = ds.enumerate().filter(lambda i, example: tf.gather(keep, i))
            ds = ds.map(lambda i, example: example)
            ds = ds.apply(tf.data.experimental.assert_cardinality(len(indices)))
        if shuffle:
            ds = ds.shuffle(min(len(indices), 10_000), seed=seed, reshuffle_each_iteration=True)

        def convert(image, label):
            x = tf.cast(image, tf.float32) / 255.0
            return _resize(x, image_size), tf.cast(label, tf.int32)

        ds = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size)


def _resize(x, image_size):
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


def _to_channels(x, channels):
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

    Example:

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
    _source: object = dataclasses.field(repr=False, compare=False, default=None)
    _indices: object = dataclasses.field(repr=False, compare=False, default=None)
    _image_size: object = dataclasses.field(repr=False, compare=False, default=None)

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
        indices = self._select(limit, seed)
        ds = self._source.dataset(indices, int(batch_size), shuffle, int(seed), self._image_size)
        return ds.prefetch(tf.data.AUTOTUNE)

    def arrays(self, limit=None, seed=0):
        """All (or a seeded random `limit` of the) examples as `(x float32, y int32)` arrays.

        Meant for small sets: the whole selection is held in memory as float32.
        """
        indices = self._select(limit, seed)
        nbytes = len(indices) * int(np.prod(self.image_shape)) * 4
        if nbytes > 4 * 2**30:
            raise ValueError(
                f"{self.name} {self.split} is {nbytes / 2**30:.1f} GiB as float32, too large "
                "for arrays(): pass limit=... or iterate dataset() instead."
            )
        if isinstance(self._source, _ArraySource):
            return self._source.arrays(indices, self._image_size)
        xs, ys = [], []
        for x, y in self._source.dataset(indices, 512, False, int(seed), self._image_size):
            xs.append(x.numpy())
            ys.append(y.numpy())
        if not xs:
            return np.zeros((0, *self.image_shape), np.float32), np.zeros((0,), np.int32)
        return np.concatenate(xs), np.concatenate(ys).astype(np.int32)

    def _all_indices(self):
        if self._indices is None:
            return np.arange(len(self._source))
        return self._indices

    def _select(self, limit, seed):
        indices = self._all_indices()
        if limit is None:
            return indices
        limit = int(limit)
        if limit < 1:
            raise ValueError(f"limit must be a positive int or None, got {limit}: pass e.g. 1000.")
        if limit >= len(indices):
            return indices
        order = np.random.default_rng(int(seed)).permutation(len(indices))[:limit]
        return indices[order]

    def _subset(self, indices, split):
        indices = np.asarray(indices, np.int64)
        return dataclasses.replace(self, split=split, num_examples=len(indices), _indices=indices)


def split_validation(train_set, fraction=0.1, seed=0):
    """Splits a set into disjoint, seeded random `(fit, validation)` subsets.

    Args:
        train_set: a `LabelledSet` (usually the `"train"` split).
        fraction: share of examples held out for validation, in (0, 1).
        seed: same seed, same split.

    Returns:
        `(fit_set, val_set)`, with splits named `"<split>-fit"` and `"<split>-val"`.

    Example:

    >>> test = load("fashion_mnist", split="test")
    >>> fit, val = split_validation(test, fraction=0.2, seed=0)
    >>> fit.num_examples, val.num_examples
    (8000, 2000)
    """
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction}: pass e.g. 0.1.")
    indices = train_set._all_indices()
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
        train_set._subset(fit, f"{train_set.split}-fit"),
        train_set._subset(val, f"{train_set.split}-val"),
    )


# --------------------------------------------------------------------------- load


def load(name, split="test", data_dir=None, image_size=None):
    """Loads a real labelled image set.

    Args:
        name: `"cifar10"`, `"fashion_mnist"`, `"tfds:<name>"` (e.g. `"tfds:mnist"`),
            or a folder path with one sub-folder of images per class (class ids
            follow the sorted sub-folder names). A folder whose sub-folders are
            splits (`train/`, `test/`, each with class sub-folders) is read at
            `<folder>/<split>`; a folder without split sub-folders is used as is,
            whatever `split` says.
        split: `"test"` or `"train"` (tfds: any of its splits).
        data_dir: where to look instead of the defaults: the folder holding
            `cifar10-jpeg.tar.gz` (default: `shared_data_dir()`), the folder of
            Fashion-MNIST IDX files (only that folder is searched then), or the
            tfds data folder.
        image_size: `(height, width)` to resize images to when they differ;
            needed for folders of mixed sizes.

    Returns:
        A `LabelledSet`.

    Example:

    >>> test = load("fashion_mnist")
    >>> test.num_examples, test.num_classes, test.image_shape
    (10000, 10, (28, 28, 1))
    """
    if image_size is not None:
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be (height, width) of positive ints, got {image_size}.")
    if not isinstance(name, (str, os.PathLike)):
        raise ValueError(f"dataset name must be a string or a path, got {type(name).__name__}: use {VALID_NAMES}.")
    text = os.fspath(name)
    if text == "cifar10":
        result = _load_cifar10(split, data_dir)
    elif text in ("fashion_mnist", "fashion-mnist"):
        result = _load_fashion_mnist(split, data_dir)
    elif text == "fsdd":  # audio: 1 s at 16 kHz; load_audio() takes another rate or length
        return load_audio(text, split=split, data_dir=data_dir)
    elif text in VIDEO_SETS:  # video: 8 frames of 32 px; load_video_set() takes other sizes
        return load_video_set(text, split=split, data_dir=data_dir)
    elif text.startswith("tfds:"):
        return _load_tfds(text[len("tfds:"):], split, data_dir, image_size)
    elif os.path.isdir(text):
        return _load_folder(pathlib.Path(text), split, image_size)
    elif os.sep in text or (os.altsep and os.altsep in text) or text.startswith("."):
        raise ValueError(f"dataset folder {text} does not exist: pass an existing folder of class sub-folders.")
    else:
        raise ValueError(f"unknown dataset {text!r}: use {VALID_NAMES}.")
    return _with_size(result, image_size)


def _with_size(labelled, image_size):
    if image_size is None or tuple(image_size) == tuple(labelled.image_shape[:2]):
        return labelled
    return dataclasses.replace(
        labelled, image_shape=(*image_size, labelled.image_shape[2]), _image_size=tuple(image_size)
    )


def _check_split(split, name):
    if split not in ("train", "test"):
        raise ValueError(f"{name} has splits 'train' and 'test', not {split!r}: pass split='train' or 'test'.")


# --------------------------------------------------------------------------- CIFAR-10


def _load_cifar10(split, data_dir):
    _check_split(split, "cifar10")
    tar, looked = _find_cifar_tar(data_dir)
    cache = cache_dir() / "cifar10-jpeg"
    if tar is not None:
        _ensure_decoded_cache(tar, cache, _CACHE_VERSION, _decode_cifar_tar)
    elif not (cache / "info.json").exists():
        try:
            return _load_tfds("cifar10", split, None, None)
        except ValueError as error:
            what = str(error).split(": ", 1)[0]
            raise ValueError(
                f"CIFAR-10 tar {CIFAR10_TAR} is not in {looked} (nor decoded in {cache}) and {what}: "
                f"put the tar in {looked} or set AIP_SHARED_DATA to its folder, or fetch tfds cifar10 "
                "on a machine with network."
            ) from None
    info = json.loads((cache / "info.json").read_text())
    images = np.load(cache / f"{split}_images.npy")
    labels = np.load(cache / f"{split}_labels.npy")
    return LabelledSet(
        name="cifar10",
        split=split,
        num_classes=len(info["class_names"]),
        class_names=tuple(info["class_names"]),
        image_shape=tuple(images.shape[1:]),
        num_examples=len(labels),
        _source=_ArraySource(images, labels),
    )


def _find_cifar_tar(data_dir):
    if data_dir is not None:
        path = pathlib.Path(data_dir).expanduser()
        if path.is_file():
            return path, str(path)
        folders = [path]
    else:
        shared = shared_data_dir()
        folders = [shared] if shared is not None else []
    for folder in folders:
        if (folder / CIFAR10_TAR).is_file():
            return folder / CIFAR10_TAR, str(folder)
    looked = " or ".join(str(f) for f in folders)
    return None, looked or "the shared data folder (AIP_SHARED_DATA unset, ../shared/data absent)"


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ensure_decoded_cache(tar, cache, version, decode, **info_extra):
    """Runs `decode(tar, folder) -> info` once into `cache` (atomically), unless `cache` already holds
    the decoding of this tar's bytes (sha256) by this cache `version`."""
    digest = _file_digest(tar)
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


def _decode_cifar_tar(tar, out):
    """Reads `cifar10/{split}/{class}/*.jpg` from the tar and writes uint8 .npy per split."""
    members = {}  # split -> list of (class, file name, jpeg bytes)
    try:
        with tarfile.open(tar, "r:*") as archive:
            for member in archive:
                parts = member.name.split("/")
                if not member.isfile() or len(parts) != 4 or not parts[3].lower().endswith((".jpg", ".jpeg")):
                    continue
                _, split, class_name, file_name = parts
                data = archive.extractfile(member).read()
                members.setdefault(split, []).append((class_name, file_name, data))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"cannot read CIFAR-10 tar {tar} ({error}): replace it with a good copy.") from None
    if set(members) != {"train", "test"}:
        raise ValueError(
            f"CIFAR-10 tar {tar} has splits {sorted(members)}, not train and test under cifar10/: "
            "use the cifar10-jpeg.tar.gz of the shared data folder."
        )
    class_names = sorted({c for c, _, _ in members["test"]})
    if sorted({c for c, _, _ in members["train"]}) != class_names:
        raise ValueError(f"CIFAR-10 tar {tar} has different classes in train and test: replace it with a good copy.")
    counts = {}
    for split, items in members.items():
        items.sort(key=lambda item: (item[0], item[1]))
        labels = np.array([class_names.index(c) for c, _, _ in items], np.int32)
        images = _decode_jpegs([data for _, _, data in items])
        _save_npy(out / f"{split}_images.npy", images)
        _save_npy(out / f"{split}_labels.npy", labels)
        counts[split] = len(labels)
    return {"class_names": class_names, "num_examples": counts}


def _decode_jpegs(blobs):
    """Decodes same-sized RGB JPEG bytes to one uint8 array, in parallel with tf.data."""

    def decode(data):
        return tf.io.decode_jpeg(data, channels=3)

    ds = tf.data.Dataset.from_tensor_slices(tf.constant(blobs, dtype=tf.string))
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(2048)
    try:
        return np.concatenate([batch.numpy() for batch in ds])
    except tf.errors.InvalidArgumentError as error:
        message = str(error).splitlines()[0]
        raise ValueError(
            f"CIFAR-10 tar holds a bad or odd-sized JPEG ({message}): replace it with a good copy."
        ) from None


def _save_npy(path, array):
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


# --------------------------------------------------------------------------- Fashion-MNIST


def _load_fashion_mnist(split, data_dir):
    _check_split(split, "fashion_mnist")
    prefix = "train" if split == "train" else "t10k"
    folders = [pathlib.Path(data_dir).expanduser()] if data_dir is not None else [
        DEBIAN_FASHION_MNIST, BUNDLED_FASHION_MNIST,
    ]
    for folder in folders:
        image_file = _find_idx(folder, f"{prefix}-images-idx3-ubyte")
        label_file = _find_idx(folder, f"{prefix}-labels-idx1-ubyte")
        if image_file and label_file:
            break
    else:
        hint = "" if data_dir is not None else " (the bundled copy has the test split only)"
        raise ValueError(
            f"Fashion-MNIST {split} files {prefix}-images-idx3-ubyte[.gz] and {prefix}-labels-idx1-ubyte[.gz] "
            f"are not in {' or '.join(str(f) for f in folders)}{hint}: "
            "apt-get install dataset-fashion-mnist, or pass data_dir=<folder with them>."
        )
    images = read_idx(image_file, ndim=3)
    labels = read_idx(label_file, ndim=1)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{image_file} holds {images.shape[1:]} images, not 28x28: pass Fashion-MNIST files.")
    if len(labels) != len(images):
        raise ValueError(
            f"{image_file} has {len(images)} images but {label_file} has {len(labels)} labels: "
            "use files of the same split."
        )
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(f"{label_file} has label {labels.max()}, above 9: pass Fashion-MNIST label files.")
    return LabelledSet(
        name="fashion_mnist",
        split=split,
        num_classes=len(FASHION_MNIST_CLASSES),
        class_names=FASHION_MNIST_CLASSES,
        image_shape=(28, 28, 1),
        num_examples=len(labels),
        _source=_ArraySource(images[..., None], labels),
    )


def _find_idx(folder, stem):
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path, ndim=None):
    """Reads an unsigned-byte IDX file (gzipped if it ends in `.gz`) into a uint8 array.

    Args:
        path: the file.
        ndim: the number of dimensions expected, or None for any.

    Raises:
        ValueError: if the file is unreadable, truncated, or not unsigned-byte IDX.

    Example:

    >>> labels = read_idx(BUNDLED_FASHION_MNIST / "t10k-labels-idx1-ubyte.gz", ndim=1)
    >>> labels.shape, labels.dtype.name
    ((10000,), 'uint8')
    """
    path = pathlib.Path(path)
    fix = "replace it with a good copy (apt-get install --reinstall dataset-fashion-mnist)"
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ValueError(f"cannot read IDX file {path} ({error}): {fix}.") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number {data[:4].hex()}): {fix}.")
    dims_count = data[3]
    if ndim is not None and dims_count != ndim:
        raise ValueError(f"{path} has {dims_count} dimensions, {ndim} expected (wrong file?): {fix}.")
    header = 4 + 4 * dims_count
    if len(data) < header:
        raise ValueError(f"{path} is truncated inside its header: {fix}.")
    dims = struct.unpack(f">{dims_count}I", data[4:header])
    expected = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: its header says {dims} ({expected} bytes) but "
            f"{len(data) - header} bytes follow: {fix}."
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


# --------------------------------------------------------------------------- folders


def _load_folder(root, split, image_size):
    root = root.expanduser()
    subdirs = _subdirs(root)
    if subdirs and all(_subdirs(d) for d in subdirs):  # split sub-folders, each of class sub-folders
        if not (root / split).is_dir():
            raise ValueError(
                f"dataset folder {root} has split sub-folders {[d.name for d in subdirs]} but no "
                f"{split!r}: pass split= one of them."
            )
        root = root / split
        subdirs = _subdirs(root)
    if not subdirs:
        if not any(root.iterdir()):
            raise ValueError(f"dataset folder {root} is empty: put one sub-folder of images per class in it.")
        raise ValueError(
            f"dataset folder {root} has no class sub-folders: put each class's images in "
            f"{root}/<class name>/."
        )
    paths, labels, skipped, empty = [], [], [], []
    for label, class_dir in enumerate(subdirs):
        files = sorted(p for p in class_dir.rglob("*") if p.is_file() and not _hidden(p, class_dir))
        images = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
        skipped += [p for p in files if p.suffix.lower() not in IMAGE_EXTENSIONS]
        if not images:
            empty.append(class_dir.name)
        paths += images
        labels += [label] * len(images)
    if not paths:
        other = f" (only {len(skipped)} other files)" if skipped else ""
        raise ValueError(
            f"dataset folder {root} has class sub-folders but no {'/'.join(IMAGE_EXTENSIONS)} "
            f"images{other}: put the images in them."
        )
    if skipped:
        warnings.warn(f"{len(skipped)} files in {root} are not {'/'.join(IMAGE_EXTENSIONS)} images and "
                      f"are left out, e.g. {skipped[0]}", stacklevel=3)
    if empty:
        warnings.warn(f"class folders {empty} in {root} have no images", stacklevel=3)
    sizes, channels = _probe_images(paths)
    if image_size is None:
        if len(sizes) > 1:
            (a, size_a), (b, size_b) = list(sizes.items())[:2]
            raise ValueError(
                f"images in {root} have different sizes ({size_a} is {a[0]}x{a[1]}, {size_b} is "
                f"{b[0]}x{b[1]}): pass image_size=(height, width) to resize them."
            )
        image_size = next(iter(sizes))
    return LabelledSet(
        name=str(root),
        split=split,
        num_classes=len(subdirs),
        class_names=tuple(d.name for d in subdirs),
        image_shape=(*image_size, channels),
        num_examples=len(paths),
        _source=_FileSource(paths, labels, channels),
        _image_size=tuple(image_size),
    )


def _subdirs(folder):
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def _hidden(path, base):
    return any(part.startswith(".") for part in path.relative_to(base).parts)


def _probe_images(paths):
    """Reads image headers: {(height, width): first file} and 1 (all grey) or 3 channels."""
    from PIL import Image, UnidentifiedImageError

    sizes, grey = {}, True
    for path in paths:
        try:
            with Image.open(path) as image:
                width, height = image.size
                mode = image.mode
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"cannot read image {path} ({type(error).__name__}): remove or replace it.") from None
        sizes.setdefault((height, width), path)
        grey = grey and mode in _GREY_MODES
    return sizes, 1 if grey else 3


# --------------------------------------------------------------------------- tfds


def _load_tfds(tfds_name, split, data_dir, image_size):
    import tensorflow_datasets as tfds

    display = f"tfds:{tfds_name}"
    try:
        builder = tfds.builder(tfds_name, data_dir=None if data_dir is None else str(data_dir))
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"tfds has no dataset {tfds_name!r}: check the name at https://www.tensorflow.org/datasets/catalog."
        ) from None
    if not builder.is_prepared():
        root = builder.data_dir_root
        if not network_available(TFDS_HOST):
            raise ValueError(
                f"tfds dataset {tfds_name} is not in {root} and cannot be downloaded (no network): "
                "download it on a machine with network, or pass a local folder."
            )
        builder.download_and_prepare()
    features = builder.info.features
    if "image" not in features or "label" not in features:
        raise ValueError(
            f"{display} has features {sorted(features)}, not 'image' and 'label': "
            "use an image classification dataset."
        )
    label_feature = features["label"]
    if not hasattr(label_feature, "num_classes"):
        raise ValueError(f"{display} labels are not class ids: use an image classification dataset.")
    try:
        num_examples = builder.info.splits[split].num_examples
    except (KeyError, ValueError):
        raise ValueError(
            f"{display} has splits {sorted(builder.info.splits)}, not {split!r}: pass one of them."
        ) from None
    height, width, channels = features["image"].shape
    if image_size is None:
        if not height or not width:
            raise ValueError(f"{display} images vary in size: pass image_size=(height, width).")
        image_size = (height, width)

    def make():
        ds = builder.as_dataset(split=split, shuffle_files=False)
        return ds.map(lambda example: (example["image"], example["label"]))

    return LabelledSet(
        name=display,
        split=split,
        num_classes=int(label_feature.num_classes),
        class_names=tuple(label_feature.names),
        image_shape=(*image_size, channels),
        num_examples=int(num_examples),
        _source=_StreamSource(make, int(num_examples)),
        _image_size=tuple(image_size),
    )


# --------------------------------------------------------------------------- audio
# Labelled audio sets: `(x, y)` with x float32 `(B, samples)` waveforms in [-1, 1]
# (mono, resampled to the requested rate, centre-cropped / zero-padded to a fixed
# length) and y int32 class ids. `load("fsdd")` works too; other audio sets go
# through `load_audio`, which takes the rate and length.

FSDD_TAR = "fsdd-recordings.tar.gz"
FSDD_CLASSES = tuple(str(d) for d in range(10))
AUDIO_NAMES = "'fsdd', 'tfds:<name>' (an 'audio' and a 'label' feature) or a folder of class sub-folders of audio files"
_AUDIO_CACHE_VERSION = 1


# --------------------------------------------------------------------------- video

VIDEO_SETS = ("cifar10_clips",)
# The CIFAR-10 clips' camera move: the whole 32 px image as the square, two boxes of 40-100% of its
# area (a mild pan/zoom that keeps the object in view), no colour jitter; fixed per image.
CIFAR_CLIPS_CHAIN = {"initial_crop": 1.0, "min_area": 0.4, "max_area": 1.0, "jitter_p": 0.0}
CIFAR_CLIPS_SEED = 20230501


class _ClipSource:
    """Each image of an `_ArraySource` becomes a clip by a smooth camera move, the same on every pass."""

    def __init__(self, base, frames, clip_size):
        from aip_keras.sources.video import ClipChain

        self.base = base
        self.chain = ClipChain(clip_size=clip_size, frames=frames, **CIFAR_CLIPS_CHAIN)

    def __len__(self):
        return len(self.base)

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        from aip_keras.sources.image import _element_seed

        if image_size is not None:
            raise ValueError("video sets take clip_size in load_video_set(), not image_size.")
        images, labels = self.base.tensors()
        chain = self.chain
        ds = tf.data.Dataset.from_tensor_slices(indices.astype(np.int64))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)

        def clip(i):
            return chain(tf.gather(images, i), _element_seed(CIFAR_CLIPS_SEED, i)), tf.gather(labels, i)

        ds = ds.map(clip, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.batch(batch_size)


def load_video_set(name="cifar10_clips", split="test", frames=8, clip_size=32, data_dir=None):
    """A labelled video set; `x` batches are clips `(B, frames, clip_size, clip_size, 3)` in [0, 1].

    `"cifar10_clips"`: a proxy video task built from real images (no Kinetics
    or UCF101 is reachable offline). Each CIFAR-10 image becomes a clip by a
    smooth camera move over it (two boxes of 40-100% of its area, linearly
    interpolated over the frames, as in the fake-video source), labelled with
    the image's class; train from CIFAR-10's train split, test from its test
    split. What it tests: temporal models, clip pipelines and multi-clip
    evaluation on real image content; what it does not: real motion or
    actions, the point of Kinetics.

    Example:

    >>> clips = load_video_set("cifar10_clips", split="test", frames=4, clip_size=16)
    >>> x, y = next(iter(clips.dataset(2)))
    >>> x.shape
    TensorShape([2, 4, 16, 16, 3])
    """
    if name not in VIDEO_SETS:
        raise ValueError(f"unknown video dataset {name!r}: use one of {list(VIDEO_SETS)}.")
    images = _load_cifar10(split, data_dir)
    if not isinstance(images._source, _ArraySource):
        raise ValueError("cifar10_clips needs the CIFAR-10 JPEG tar (../shared/data or AIP_SHARED_DATA), not tfds.")
    return dataclasses.replace(images, name=name, image_shape=(int(frames), int(clip_size), int(clip_size), 3),
                               _source=_ClipSource(images._source, int(frames), int(clip_size)))


@dataclasses.dataclass(frozen=True)
class AudioLabelledSet(LabelledSet):
    """A labelled audio set: `LabelledSet` whose examples are fixed-length waveforms.

    `image_shape` is `(samples,)` here (what one example's `x` is), so the
    code that reads shapes from a `LabelledSet` works unchanged.

    Attributes:
        sample_rate: the rate of the waveforms it yields, Hz.

    Example:

    >>> test = load_audio("fsdd", split="test", sample_rate=8000)
    >>> x, y = next(iter(test.dataset(16)))
    >>> x.shape, x.dtype.name, y.dtype.name, test.num_examples
    (TensorShape([16, 8000]), 'float32', 'int32', 300)
    """

    sample_rate: int = 16000

    @property
    def num_samples(self):
        """Samples per waveform."""
        return self.image_shape[0]

    @property
    def seconds(self):
        """Seconds per waveform."""
        return self.image_shape[0] / self.sample_rate

    def arrays(self, limit=None, seed=0):
        """All (or a seeded random `limit` of the) waveforms and labels as numpy arrays."""
        indices = self._select(limit, seed)
        nbytes = len(indices) * self.num_samples * 4
        if nbytes > 4 * 2**30:
            raise ValueError(
                f"{self.name} {self.split} is {nbytes / 2**30:.1f} GiB as float32, too large "
                "for arrays(): pass limit=... or iterate dataset() instead."
            )
        if isinstance(self._source, _WaveformSource):
            return self._source.waveforms[indices], self._source.labels[indices]
        xs, ys = [], []
        for x, y in self._source.dataset(indices, 512, False, int(seed), None):
            xs.append(x.numpy())
            ys.append(y.numpy())
        if not xs:
            return np.zeros((0, self.num_samples), np.float32), np.zeros((0,), np.int32)
        return np.concatenate(xs), np.concatenate(ys).astype(np.int32)


class _WaveformSource:
    """Examples held in memory as float32 `(N, samples)` waveforms and int32 labels."""

    def __init__(self, waveforms, labels):
        self.waveforms = np.asarray(waveforms, np.float32)
        self.labels = np.asarray(labels, np.int32)
        self._tensor = None

    def __len__(self):
        return len(self.labels)

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        if self._tensor is None:
            self._tensor = (tf.constant(self.waveforms), tf.constant(self.labels))
        waveforms, labels = self._tensor
        ds = tf.data.Dataset.from_tensor_slices(np.asarray(indices, np.int64))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        return ds.map(lambda idx: (tf.gather(waveforms, idx), tf.gather(labels, idx)),
                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


class _AudioFileSource:
    """Examples as audio files, decoded, resampled and fitted on the fly."""

    def __init__(self, paths, labels, sample_rate, num_samples):
        self.paths = np.asarray([str(p) for p in paths], dtype=object)
        self.labels = np.asarray(labels, np.int32)
        self.sample_rate = int(sample_rate)
        self.num_samples = int(num_samples)

    def __len__(self):
        return len(self.labels)

    def _decode(self, path):
        from aip_keras.sources import audio

        path = path.decode() if isinstance(path, bytes) else str(path)
        samples, rate = audio.read_audio(path)
        mono = audio.to_mono(samples, rate, self.sample_rate, what=f"audio file {path!r}")
        return audio.fit_length(mono, self.num_samples)

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        ds = tf.data.Dataset.from_tensor_slices((list(self.paths[indices]), self.labels[indices]))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        n = self.num_samples

        def decode(path, label):
            x = tf.numpy_function(self._decode, [path], tf.float32, stateful=False)
            return tf.ensure_shape(x, [n]), label

        return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch_size)


class _AudioStreamSource:
    """Examples read in order from a tfds pipeline of `(audio, label)`; no random access."""

    def __init__(self, make, size, rate, sample_rate, num_samples, scale):
        self.make = make
        self.size = size
        self.rate = int(rate)
        self.sample_rate = int(sample_rate)
        self.num_samples = int(num_samples)
        self.scale = float(scale)

    def __len__(self):
        return self.size

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        ds = self.make()
        if len(indices) != self.size or np.any(indices != np.arange(self.size)):
            keep = np.zeros(self.size, bool)
            keep[indices] = True
            keep = tf.constant(keep)
            ds = ds.enumerate().filter(lambda i, example: tf.gather(keep, i)).map(lambda i, example: example)
            ds = ds.apply(tf.data.experimental.assert_cardinality(len(indices)))
        if shuffle:
            ds = ds.shuffle(min(len(indices), 10_000), seed=seed, reshuffle_each_iteration=True)
        rate, sample_rate, n, scale = self.rate, self.sample_rate, self.num_samples, self.scale

        def convert(audio_in, label):
            from aip_keras.sources import audio

            def fix(samples):
                mono = audio.to_mono(samples.astype(np.float32) * scale, rate, sample_rate)
                return audio.fit_length(mono, n)

            x = tf.numpy_function(fix, [audio_in], tf.float32, stateful=False)
            return tf.ensure_shape(x, [n]), tf.cast(label, tf.int32)

        return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch_size)


def load_audio(name, split="test", data_dir=None, sample_rate=16000, clip_seconds=1.0):
    """Loads a real labelled audio set as fixed-length waveforms.

    Every example is decoded, down-mixed to mono, resampled to `sample_rate`
    (`scipy.signal.resample_poly`) and centre-cropped or symmetrically
    zero-padded to `clip_seconds`.

    Args:
        name: `"fsdd"` (the Free Spoken Digit Dataset tar in the shared data
            folder, official split: recording index 0-4 test, 5-49 train;
            decoded once into `cache_dir()`), `"tfds:<name>"` (a TensorFlow
            Datasets set with `audio` and `label` features, e.g.
            `tfds:speech_commands`), or a folder with one sub-folder of audio
            files per class (optionally under `<split>/`; class ids follow the
            sorted sub-folder names).
        split: `"test"` or `"train"` (tfds: any of its splits).
        data_dir: the folder holding `fsdd-recordings.tar.gz` (or the tar
            itself), or the tfds data folder.
        sample_rate: the rate to resample to (the teacher's).
        clip_seconds: the length every example is fitted to.

    Returns:
        An `AudioLabelledSet`.

    Example:

    >>> train = load_audio("fsdd", split="train", sample_rate=8000)
    >>> train.num_examples, train.num_classes, train.image_shape, train.sample_rate
    (2700, 10, (8000,), 8000)
    """
    from aip_keras.sources import audio

    sample_rate = audio._check_rate(sample_rate)
    if not clip_seconds > 0:
        raise ValueError(f"clip_seconds must be > 0, got {clip_seconds}: pass e.g. 1.0")
    num_samples = int(round(clip_seconds * sample_rate))
    if not isinstance(name, (str, os.PathLike)):
        raise ValueError(f"dataset name must be a string or a path, got {type(name).__name__}: use {AUDIO_NAMES}.")
    text = os.fspath(name)
    if text == "fsdd":
        return _load_fsdd(split, data_dir, sample_rate, num_samples)
    if text.startswith("tfds:"):
        return _load_tfds_audio(text[len("tfds:"):], split, data_dir, sample_rate, num_samples)
    if os.path.isdir(text):
        return _load_audio_folder(pathlib.Path(text), split, sample_rate, num_samples)
    if os.sep in text or (os.altsep and os.altsep in text) or text.startswith("."):
        raise ValueError(f"dataset folder {text} does not exist: pass an existing folder of class sub-folders.")
    raise ValueError(f"unknown audio dataset {text!r}: use {AUDIO_NAMES}.")


def _load_fsdd(split, data_dir, sample_rate, num_samples):
    _check_split(split, "fsdd")
    if data_dir is not None and pathlib.Path(data_dir).expanduser().is_file():
        tar = pathlib.Path(data_dir).expanduser()
    else:
        folder = pathlib.Path(data_dir).expanduser() if data_dir is not None else shared_data_dir()
        tar = folder / FSDD_TAR if folder is not None else None
        if tar is None or not tar.is_file():
            where = str(folder) if folder is not None else "the shared data folder (AIP_SHARED_DATA unset, ../shared/data absent)"
            raise ValueError(
                f"FSDD tar {FSDD_TAR} is not in {where}: put it there, set AIP_SHARED_DATA to its folder, "
                "or pass data_dir=<folder or tar>."
            )
    cache = cache_dir() / f"fsdd-{sample_rate}hz-{num_samples}"
    _ensure_decoded_cache(
        tar, cache, _AUDIO_CACHE_VERSION,
        lambda tar, out: _decode_fsdd_tar(tar, out, sample_rate, num_samples),
        sample_rate=sample_rate, num_samples=num_samples,
    )
    waveforms = np.load(cache / f"{split}_waveforms.npy")
    labels = np.load(cache / f"{split}_labels.npy")
    return AudioLabelledSet(
        name="fsdd",
        split=split,
        num_classes=len(FSDD_CLASSES),
        class_names=FSDD_CLASSES,
        image_shape=(num_samples,),
        num_examples=len(labels),
        _source=_WaveformSource(waveforms, labels),
        sample_rate=sample_rate,
    )


def _decode_fsdd_tar(tar, out, sample_rate, num_samples):
    """Reads `*/recordings/{digit}_{speaker}_{index}.wav`: index 0-4 -> test, 5-49 -> train."""
    from aip_keras.sources import audio

    examples = {"train": [], "test": []}
    try:
        with tarfile.open(tar, "r:*") as archive:
            for member in archive:
                base = member.name.rsplit("/", 1)[-1]
                parts = base[:-4].split("_") if base.lower().endswith(".wav") else []
                if not member.isfile() or len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
                    continue
                digit, speaker, index = int(parts[0]), parts[1], int(parts[2])
                samples, rate = audio.decode_audio(archive.extractfile(member).read(), what=f"{tar}:{member.name}")
                x = audio.fit_length(audio.to_mono(samples, rate, sample_rate, what=member.name), num_samples)
                split = "test" if index < 5 else "train"
                examples[split].append((speaker, digit, index, x))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"cannot read FSDD tar {tar} ({error}): replace it with a good copy.") from None
    if not examples["train"] or not examples["test"]:
        raise ValueError(f"FSDD tar {tar} has no fsdd/recordings/<digit>_<speaker>_<index>.wav files: "
                         "use the fsdd-recordings.tar.gz of the shared data folder.")
    counts = {}
    for split, items in examples.items():
        items.sort(key=lambda item: item[:3])
        _save_npy(out / f"{split}_waveforms.npy", np.stack([item[3] for item in items]).astype(np.float32))
        _save_npy(out / f"{split}_labels.npy", np.array([item[1] for item in items], np.int32))
        counts[split] = len(items)
    return {"class_names": list(FSDD_CLASSES), "num_examples": counts}


def _load_audio_folder(root, split, sample_rate, num_samples):
    from aip_keras.sources import audio

    root = root.expanduser()
    subdirs = _subdirs(root)
    if subdirs and all(_subdirs(d) for d in subdirs):
        if not (root / split).is_dir():
            raise ValueError(f"dataset folder {root} has split sub-folders {[d.name for d in subdirs]} but no "
                             f"{split!r}: pass split= one of them.")
        root = root / split
        subdirs = _subdirs(root)
    if not subdirs:
        raise ValueError(f"dataset folder {root} has no class sub-folders: put each class's audio files in "
                         f"{root}/<class name>/.")
    paths, labels, skipped, empty = [], [], [], []
    for label, class_dir in enumerate(subdirs):
        files = sorted(p for p in class_dir.rglob("*") if p.is_file() and not _hidden(p, class_dir))
        found = [p for p in files if p.suffix.lower() in audio.AUDIO_EXTENSIONS]
        skipped += [p for p in files if p.suffix.lower() not in audio.AUDIO_EXTENSIONS]
        if not found:
            empty.append(class_dir.name)
        paths += found
        labels += [label] * len(found)
    if not paths:
        raise ValueError(f"dataset folder {root} has class sub-folders but no audio files "
                         f"({'/'.join(audio.AUDIO_EXTENSIONS)}): put the recordings in them.")
    if skipped:
        warnings.warn(f"{len(skipped)} files in {root} are not audio files and are left out, e.g. {skipped[0]}",
                      stacklevel=3)
    if empty:
        warnings.warn(f"class folders {empty} in {root} have no audio files", stacklevel=3)
    import soundfile

    for path in paths:  # headers only: a bad file fails here, not mid-training
        try:
            soundfile.info(str(path))
        except (RuntimeError, TypeError, ValueError) as error:
            raise ValueError(f"cannot read audio file {path} ({' '.join(str(error).split())}): "
                             "remove or replace it.") from None
    return AudioLabelledSet(
        name=str(root),
        split=split,
        num_classes=len(subdirs),
        class_names=tuple(d.name for d in subdirs),
        image_shape=(num_samples,),
        num_examples=len(paths),
        _source=_AudioFileSource(paths, labels, sample_rate, num_samples),
        sample_rate=sample_rate,
    )


def _load_tfds_audio(tfds_name, split, data_dir, sample_rate, num_samples):
    import tensorflow_datasets as tfds

    display = f"tfds:{tfds_name}"
    try:
        builder = tfds.builder(tfds_name, data_dir=None if data_dir is None else str(data_dir))
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"tfds has no dataset {tfds_name!r}: check the name at https://www.tensorflow.org/datasets/catalog."
        ) from None
    features = builder.info.features
    if "audio" not in features or "label" not in features:
        raise ValueError(f"{display} has features {sorted(features)}, not 'audio' and 'label': "
                         "use an audio classification dataset (e.g. tfds:speech_commands).")
    if not builder.is_prepared():
        if not network_available(TFDS_HOST):
            raise ValueError(
                f"tfds dataset {tfds_name} is not in {builder.data_dir_root} and cannot be downloaded (no network): "
                "download it on a machine with network, or pass a local folder of class sub-folders."
            )
        builder.download_and_prepare()
    try:
        num_examples = builder.info.splits[split].num_examples
    except (KeyError, ValueError):
        raise ValueError(f"{display} has splits {sorted(builder.info.splits)}, not {split!r}: pass one of them.") from None
    audio_feature, label_feature = features["audio"], features["label"]
    rate = getattr(audio_feature, "sample_rate", None)
    if not rate:
        raise ValueError(f"{display} does not state its audio sample rate: pass a folder of audio files instead.")
    dtype = np.dtype(getattr(audio_feature, "dtype", tf.int64).as_numpy_dtype)
    scale = 1.0 / 32768.0 if np.issubdtype(dtype, np.integer) else 1.0  # tfds stores 16-bit PCM values

    def make():
        ds = builder.as_dataset(split=split, shuffle_files=False)
        return ds.map(lambda example: (example["audio"], example["label"]))

    return AudioLabelledSet(
        name=display,
        split=split,
        num_classes=int(label_feature.num_classes),
        class_names=tuple(label_feature.names),
        image_shape=(num_samples,),
        num_examples=int(num_examples),
        _source=_AudioStreamSource(make, int(num_examples), rate, sample_rate, num_samples, scale),
        sample_rate=sample_rate,
    )
