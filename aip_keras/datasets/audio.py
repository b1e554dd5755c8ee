"""Real labelled audio sets: FSDD, folders of class sub-folders of audio files, tfds audio sets.

`load_audio(name, split, sample_rate=, clip_seconds=)` returns an
`AudioLabelledSet` yielding `(x, y)` with x float32 `(B, samples)` waveforms
in [-1, 1] (mono, resampled to the requested rate, centre-cropped /
zero-padded to a fixed length) and y int32 class ids. `aip_keras.datasets.load("fsdd")`
works too (1 s at 16 kHz); other audio sets go through `load_audio`, which
takes the rate and length. Files are decoded by `aip_keras.decode.audio`.
"""

import dataclasses
import os
import pathlib
import tarfile
import warnings

import numpy as np
import tensorflow as tf

from aip_keras.datasets.base import (
    PACKAGE_DIR,
    LabelledSet,
    check_not_a_path,
    check_split,
    dataset_name,
    ensure_decoded_cache,
    prepare_tfds,
    save_npy,
    scan_class_folders,
    shared_data_dir,
    split_folder,
    stream_subset,
    tfds_builder,
    tfds_split_size,
)
from aip_keras.decode.audio import AUDIO_EXTENSIONS, decode_audio, fit_length, read_audio, to_mono
from aip_keras.front_end import DEFAULT_SAMPLE_RATE, check_rate
from aip_keras.utils import cache_dir

FSDD_TAR = "fsdd-recordings.tar.gz"
# FSDD's 300 test recordings bundled with the package (CC-BY-SA 4.0; aip_keras/data/fsdd/README.md), so the
# audio default evaluates offline from a plain install; the training split needs the full tar.
BUNDLED_FSDD_TEST = PACKAGE_DIR / "data" / "fsdd" / "fsdd-test-recordings.tar.gz"
FSDD_CLASSES = tuple(str(d) for d in range(10))
AUDIO_NAMES = "'fsdd', 'tfds:<name>' (an 'audio' and a 'label' feature) or a folder of class sub-folders of audio files"
AUDIO_CACHE_VERSION = 1
"""Version of the decoded FSDD cache: bump it when the decoding changes."""


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

    sample_rate: int = DEFAULT_SAMPLE_RATE

    @property
    def num_samples(self):
        """Samples per waveform."""
        return self.image_shape[0]

    @property
    def seconds(self):
        """Seconds per waveform."""
        return self.image_shape[0] / self.sample_rate


class WaveformSource:
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

    def arrays(self, indices, image_size):
        return self.waveforms[indices], self.labels[indices]


class AudioFileSource:
    """Examples as audio files, decoded, resampled and fitted on the fly."""

    def __init__(self, paths, labels, sample_rate, num_samples):
        self.paths = np.asarray([str(p) for p in paths], dtype=object)
        self.labels = np.asarray(labels, np.int32)
        self.sample_rate = int(sample_rate)
        self.num_samples = int(num_samples)

    def __len__(self):
        return len(self.labels)

    def _decode(self, path):
        path = path.decode() if isinstance(path, bytes) else str(path)
        samples, rate = read_audio(path)
        mono = to_mono(samples, rate, self.sample_rate, what=f"audio file {path!r}")
        return fit_length(mono, self.num_samples)

    def dataset(self, indices, batch_size, shuffle, seed, image_size):
        ds = tf.data.Dataset.from_tensor_slices((list(self.paths[indices]), self.labels[indices]))
        if shuffle:
            ds = ds.shuffle(len(indices), seed=seed, reshuffle_each_iteration=True)
        n = self.num_samples

        def decode(path, label):
            x = tf.numpy_function(self._decode, [path], tf.float32, stateful=False)
            return tf.ensure_shape(x, [n]), label

        return ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch_size)


class AudioStreamSource:
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
        ds = stream_subset(self.make(), indices, self.size, shuffle, seed)
        rate, sample_rate, n, scale = self.rate, self.sample_rate, self.num_samples, self.scale

        def fix(samples):
            return fit_length(to_mono(samples.astype(np.float32) * scale, rate, sample_rate), n)

        def convert(audio_in, label):
            x = tf.numpy_function(fix, [audio_in], tf.float32, stateful=False)
            return tf.ensure_shape(x, [n]), tf.cast(label, tf.int32)

        return ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch_size)


def load_audio(name, split="test", data_dir=None, sample_rate=DEFAULT_SAMPLE_RATE, clip_seconds=1.0):
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
    sample_rate = check_rate(sample_rate)
    if not clip_seconds > 0:
        raise ValueError(f"clip_seconds must be > 0, got {clip_seconds}: pass e.g. 1.0")
    num_samples = int(round(clip_seconds * sample_rate))
    text = dataset_name(name, AUDIO_NAMES)
    if text == "fsdd":
        return _load_fsdd(split, data_dir, sample_rate, num_samples)
    if text.startswith("tfds:"):
        return _load_tfds_audio(text[len("tfds:"):], split, data_dir, sample_rate, num_samples)
    if os.path.isdir(text):
        return _load_audio_folder(pathlib.Path(text), split, sample_rate, num_samples)
    check_not_a_path(text)
    raise ValueError(f"unknown audio dataset {text!r}: use {AUDIO_NAMES}.")


# --------------------------------------------------------------------------- FSDD


def _load_fsdd(split, data_dir, sample_rate, num_samples):
    check_split(split, "fsdd")
    if data_dir is not None and pathlib.Path(data_dir).expanduser().is_file():
        tar = pathlib.Path(data_dir).expanduser()
    else:
        folder = pathlib.Path(data_dir).expanduser() if data_dir is not None else shared_data_dir()
        tar = folder / FSDD_TAR if folder is not None else None
        if (tar is None or not tar.is_file()) and data_dir is None and split == "test":
            tar = BUNDLED_FSDD_TEST
        if tar is None or not tar.is_file():
            where = str(folder) if folder is not None else "the shared data folder (AIP_SHARED_DATA unset, ../shared/data absent)"
            bundled = " (the package bundles the test split only)" if data_dir is None else ""
            raise ValueError(
                f"FSDD tar {FSDD_TAR} is not in {where}{bundled}: download it from "
                "https://github.com/Jakobovski/free-spoken-digit-dataset and put it there, set AIP_SHARED_DATA to its "
                "folder, or pass data_dir=<folder or tar>."
            )
    cache = cache_dir() / f"fsdd-{sample_rate}hz-{num_samples}" / ("bundled-test" if tar == BUNDLED_FSDD_TEST else "")
    ensure_decoded_cache(
        tar, cache, AUDIO_CACHE_VERSION,
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
        examples=WaveformSource(waveforms, labels),
        sample_rate=sample_rate,
    )


def _decode_fsdd_tar(tar, out, sample_rate, num_samples):
    """Reads `*/recordings/{digit}_{speaker}_{index}.wav`: index 0-4 -> test, 5-49 -> train."""
    examples = {"train": [], "test": []}
    try:
        with tarfile.open(tar, "r:*") as archive:
            for member in archive:
                base = member.name.rsplit("/", 1)[-1]
                parts = base[:-4].split("_") if base.lower().endswith(".wav") else []
                if not member.isfile() or len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
                    continue
                digit, speaker, index = int(parts[0]), parts[1], int(parts[2])
                samples, rate = decode_audio(archive.extractfile(member).read(), what=f"{tar}:{member.name}")
                x = fit_length(to_mono(samples, rate, sample_rate, what=member.name), num_samples)
                split = "test" if index < 5 else "train"
                examples[split].append((speaker, digit, index, x))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"cannot read FSDD tar {tar} ({error}): replace it with a good copy.") from None
    if not examples["test"]:
        raise ValueError(f"FSDD tar {tar} has no fsdd/recordings/<digit>_<speaker>_<index>.wav files: "
                         "use the fsdd-recordings.tar.gz of the shared data folder.")
    counts = {}
    for split, items in examples.items():
        if not items:  # the bundled tar holds the test split only
            continue
        items.sort(key=lambda item: item[:3])
        save_npy(out / f"{split}_waveforms.npy", np.stack([item[3] for item in items]).astype(np.float32))
        save_npy(out / f"{split}_labels.npy", np.array([item[1] for item in items], np.int32))
        counts[split] = len(items)
    return {"class_names": list(FSDD_CLASSES), "num_examples": counts}


# --------------------------------------------------------------------------- folders


def _load_audio_folder(root, split, sample_rate, num_samples):
    import soundfile

    root, class_dirs = split_folder(root.expanduser(), split)
    if not class_dirs:
        raise ValueError(f"dataset folder {root} has no class sub-folders: put each class's audio files in "
                         f"{root}/<class name>/.")
    paths, labels, skipped, empty = scan_class_folders(class_dirs, AUDIO_EXTENSIONS)
    if not paths:
        raise ValueError(f"dataset folder {root} has class sub-folders but no audio files "
                         f"({'/'.join(AUDIO_EXTENSIONS)}): put the recordings in them.")
    if skipped:
        warnings.warn(f"{len(skipped)} files in {root} are not audio files and are left out, e.g. {skipped[0]}",
                      stacklevel=3)
    if empty:
        warnings.warn(f"class folders {empty} in {root} have no audio files", stacklevel=3)
    for path in paths:  # headers only: a bad file fails here, not mid-training
        try:
            soundfile.info(str(path))
        except (RuntimeError, TypeError, ValueError) as error:
            raise ValueError(f"cannot read audio file {path} ({' '.join(str(error).split())}): "
                             "remove or replace it.") from None
    return AudioLabelledSet(
        name=str(root),
        split=split,
        num_classes=len(class_dirs),
        class_names=tuple(d.name for d in class_dirs),
        image_shape=(num_samples,),
        num_examples=len(paths),
        examples=AudioFileSource(paths, labels, sample_rate, num_samples),
        sample_rate=sample_rate,
    )


# --------------------------------------------------------------------------- tfds


def _load_tfds_audio(tfds_name, split, data_dir, sample_rate, num_samples):
    display = f"tfds:{tfds_name}"
    builder = tfds_builder(tfds_name, data_dir)
    features = builder.info.features
    if "audio" not in features or "label" not in features:
        raise ValueError(f"{display} has features {sorted(features)}, not 'audio' and 'label': "
                         "use an audio classification dataset (e.g. tfds:speech_commands).")
    prepare_tfds(builder, tfds_name, "pass a local folder of class sub-folders")
    num_examples = tfds_split_size(builder, display, split)
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
        examples=AudioStreamSource(make, int(num_examples), rate, sample_rate, num_samples, scale),
        sample_rate=sample_rate,
    )
