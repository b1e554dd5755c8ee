"""Real labelled image sets: CIFAR-10, Fashion-MNIST, folders of class sub-folders, tfds.

`load(name, split)` returns a `LabelledSet` yielding `(x, y)` with `x` float32,
channels-last, in [0, 1] and `y` int32 class ids. Names:

- `"cifar10"`: the CIFAR-10 JPEG tar in the shared data folder, decoded once into
  uint8 `.npy` files in `cache_dir()`; without the tar, tfds' `cifar10`.
- `"fashion_mnist"`: gzipped IDX files from `data_dir`, else `$AIP_FASHION_MNIST_DIR`
  (default: Debian's `/usr/share/datasets/fashion-mnist/`, present after the optional
  `apt-get install dataset-fashion-mnist`, which has the train split too), else the
  test split bundled with this package (`aip_keras/data/fashion_mnist`).
- `"tfds:<name>"`: a TensorFlow Datasets set with `image` and `label` features.
- a folder: one sub-folder of images per class (optionally under `<split>/`).

The audio (`fsdd`) and video (`cifar10_clips`) names are dispatched by
`aip_keras.datasets.load` (`aip_keras.datasets.catalog`).
"""

import dataclasses
import gzip
import json
import os
import pathlib
import struct
import tarfile
import warnings

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

from aip_keras.datasets.base import (
    PACKAGE_DIR,
    ArraySource,
    FileSource,
    LabelledSet,
    StreamSource,
    check_not_a_path,
    check_split,
    dataset_name,
    ensure_decoded_cache,
    prepare_tfds,
    save_npy,
    scan_class_folders,
    shared_data_dir,
    split_folder,
    tfds_builder,
    tfds_split_size,
)
from aip_keras.utils import cache_dir, first_line

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
CACHE_VERSION = 1
"""Version of the decoded CIFAR-10 cache: bump it when the decoding changes."""

_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def check_image_size(image_size):
    """`None` or a `(height, width)` of positive ints, as a tuple; a one-line ValueError otherwise."""
    if image_size is not None:
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be (height, width) of positive ints, got {image_size}.")
    return image_size


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
    image_size = check_image_size(image_size)
    text = dataset_name(name, VALID_NAMES)
    if text == "cifar10":
        result = load_cifar10(split, data_dir)
    elif text in ("fashion_mnist", "fashion-mnist"):
        result = _load_fashion_mnist(split, data_dir)
    elif text.startswith("tfds:"):
        return _load_tfds(text[len("tfds:"):], split, data_dir, image_size)
    elif os.path.isdir(text):
        return _load_folder(pathlib.Path(text), split, image_size)
    else:
        check_not_a_path(text)
        raise ValueError(f"unknown dataset {text!r}: use {VALID_NAMES}.")
    return _with_size(result, image_size)


def _with_size(labelled, image_size):
    if image_size is None or tuple(image_size) == tuple(labelled.image_shape[:2]):
        return labelled
    return dataclasses.replace(
        labelled, image_shape=(*image_size, labelled.image_shape[2]), resize_to=tuple(image_size)
    )


# --------------------------------------------------------------------------- CIFAR-10


def load_cifar10(split, data_dir=None):
    """CIFAR-10 `split` from the JPEG tar (decoded once into the cache), else from tfds.

    `data_dir`: the folder holding `cifar10-jpeg.tar.gz`, or the tar itself
    (default: `shared_data_dir()`).
    """
    check_split(split, "cifar10")
    tar, looked = _find_cifar_tar(data_dir)
    cache = cache_dir() / "cifar10-jpeg"
    if tar is not None:
        ensure_decoded_cache(tar, cache, CACHE_VERSION, _decode_cifar_tar)
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
        examples=ArraySource(images, labels),
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
        save_npy(out / f"{split}_images.npy", images)
        save_npy(out / f"{split}_labels.npy", labels)
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
        message = first_line(error, with_type=False)
        raise ValueError(
            f"CIFAR-10 tar holds a bad or odd-sized JPEG ({message}): replace it with a good copy."
        ) from None


# --------------------------------------------------------------------------- Fashion-MNIST


def _load_fashion_mnist(split, data_dir):
    check_split(split, "fashion_mnist")
    prefix = "train" if split == "train" else "t10k"
    folders = [pathlib.Path(data_dir).expanduser()] if data_dir is not None else [
        pathlib.Path(os.environ.get("AIP_FASHION_MNIST_DIR") or DEBIAN_FASHION_MNIST).expanduser(),
        BUNDLED_FASHION_MNIST,
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
        examples=ArraySource(images[..., None], labels),
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
    root, class_dirs = split_folder(root.expanduser(), split)
    if not class_dirs:
        if not any(root.iterdir()):
            raise ValueError(f"dataset folder {root} is empty: put one sub-folder of images per class in it.")
        raise ValueError(
            f"dataset folder {root} has no class sub-folders: put each class's images in "
            f"{root}/<class name>/."
        )
    paths, labels, skipped, empty = scan_class_folders(class_dirs, IMAGE_EXTENSIONS)
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
        num_classes=len(class_dirs),
        class_names=tuple(d.name for d in class_dirs),
        image_shape=(*image_size, channels),
        num_examples=len(paths),
        examples=FileSource(paths, labels, channels),
        resize_to=tuple(image_size),
    )


def _probe_images(paths):
    """Reads image headers: {(height, width): first file} and 1 (all grey) or 3 channels."""
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
    display = f"tfds:{tfds_name}"
    builder = tfds_builder(tfds_name, data_dir)
    prepare_tfds(builder, tfds_name, "pass a local folder")
    features = builder.info.features
    if "image" not in features or "label" not in features:
        raise ValueError(
            f"{display} has features {sorted(features)}, not 'image' and 'label': "
            "use an image classification dataset."
        )
    label_feature = features["label"]
    if not hasattr(label_feature, "num_classes"):
        raise ValueError(f"{display} labels are not class ids: use an image classification dataset.")
    num_examples = tfds_split_size(builder, display, split)
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
        examples=StreamSource(make, int(num_examples)),
        resize_to=tuple(image_size),
    )
