"""Tests for aip_keras.datasets.audio: FSDD from the shared tar, folders of audio files, tfds checks."""
import time

import numpy as np
import pytest
import soundfile
from helpers import fresh_data_cache, tone

from aip_keras import datasets
from aip_keras.datasets import audio

RATE = 8000


@pytest.fixture(scope="module")
def fsdd_cache(tmp_path_factory, shared_data):
    """Decodes the FSDD tar once at 8 kHz into a fresh cache (a few seconds)."""
    with fresh_data_cache(tmp_path_factory, shared_data) as cache:
        test = datasets.load_audio("fsdd", split="test", sample_rate=RATE)
    return cache, test


def test_fsdd_splits_shapes_and_cache(fsdd_cache, shared_data, monkeypatch):
    cache, test = fsdd_cache
    assert isinstance(test, audio.AudioLabelledSet)
    assert (test.name, test.split, test.num_examples, test.num_classes) == ("fsdd", "test", 300, 10)
    assert test.image_shape == (RATE,) and test.num_samples == RATE and test.seconds == 1.0
    assert test.class_names == datasets.FSDD_CLASSES and test.sample_rate == RATE
    x, y = test.arrays()
    assert x.shape == (300, RATE) and x.dtype == np.float32 and y.dtype == np.int32
    assert np.abs(x).max() <= 1.0 and np.bincount(y).tolist() == [30] * 10
    batch_x, batch_y = next(iter(test.dataset(16, shuffle=True, seed=0)))
    assert batch_x.shape == (16, RATE) and batch_y.dtype.name == "int32"
    monkeypatch.setenv("AIP_CACHE_DIR", str(cache))
    monkeypatch.setenv("AIP_SHARED_DATA", str(shared_data))
    start = time.time()
    train = datasets.load_audio("fsdd", split="train", sample_rate=RATE)
    assert time.time() - start < 5.0  # decoded once, with the test split
    assert train.num_examples == 2700
    np.testing.assert_array_equal(train.arrays(limit=20, seed=1)[1], train.arrays(limit=20, seed=1)[1])
    fit, val = datasets.split_validation(train, fraction=0.1, seed=0)
    assert (fit.num_examples, val.num_examples) == (2430, 270) and val.arrays()[0].shape == (270, RATE)


def test_without_the_tar_the_bundled_test_split_is_the_same_test_split(fsdd_cache, tmp_path, monkeypatch):
    """A plain install (no shared data) evaluates on the bundled copy of FSDD's test split: the same 300 clips."""
    monkeypatch.setenv("AIP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AIP_SHARED_DATA", str(tmp_path / "no-shared-data"))
    bundled = datasets.load_audio("fsdd", split="test", sample_rate=RATE)
    for got, expected in zip(bundled.arrays(), fsdd_cache[1].arrays()):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="bundles the test split only"):
        datasets.load_audio("fsdd", split="train", sample_rate=RATE)


def test_fsdd_missing_tar_names_the_place(tmp_path):
    with pytest.raises(ValueError, match=r"FSDD tar fsdd-recordings.tar.gz is not in .*nowhere") as info:
        datasets.load_audio("fsdd", data_dir=tmp_path / "nowhere")
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="splits 'train' and 'test'"):
        datasets.load_audio("fsdd", split="validation")


def _audio_folder(root):
    for label, name in enumerate(("yes", "no")):
        (root / name).mkdir(parents=True)
        soundfile.write(root / name / "a.wav", tone(0.5, 16000, 300 + 200 * label), 16000, subtype="PCM_16")
        soundfile.write(root / name / "b.flac", tone(1.5, RATE, channels=2), RATE)
    return root


def test_audio_folder(tmp_path):
    root = _audio_folder(tmp_path / "set")
    (root / "yes" / "notes.txt").write_text("x")
    with pytest.warns(UserWarning, match="1 files .* are not audio files"):
        data = datasets.load_audio(root, sample_rate=RATE, clip_seconds=1.0)
    assert (data.class_names, data.num_examples, data.image_shape) == (("no", "yes"), 4, (RATE,))
    x, y = data.arrays()
    assert x.shape == (4, RATE) and x.dtype == np.float32 and y.tolist() == [0, 0, 1, 1]
    # a.wav: 0.5 s at 16 kHz -> 4000 samples at 8 kHz, zero-padded symmetrically to 1 s.
    assert np.all(x[0, :2000] == 0) and np.all(x[0, -2000:] == 0) and np.abs(x[0, 2000:6000]).max() > 0.4
    # b.flac: 1.5 s of stereo, down-mixed and centre-cropped to 1 s.
    np.testing.assert_allclose(x[1], tone(1.5, RATE)[2000:10000], atol=1e-4)
    (root / "no" / "broken.wav").write_bytes(b"not audio")
    with pytest.raises(ValueError, match="cannot read audio file .*broken.wav"), pytest.warns(UserWarning):
        datasets.load_audio(root, sample_rate=RATE)


def test_audio_folder_errors(tmp_path):
    (tmp_path / "flat").mkdir()
    with pytest.raises(ValueError, match="no class sub-folders"):
        datasets.load_audio(tmp_path / "flat")
    (tmp_path / "silent" / "a").mkdir(parents=True)
    (tmp_path / "silent" / "a" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="class sub-folders but no audio files"):
        datasets.load_audio(tmp_path / "silent")


def test_bad_names_and_settings(tmp_path, monkeypatch):
    for kwargs, fragment in (
        ({"name": "speech"}, "unknown audio dataset 'speech': use 'fsdd'"),
        ({"name": "./no/such/folder"}, "does not exist"),
        ({"name": 3}, "dataset name must be a string or a path"),
        ({"name": "fsdd", "clip_seconds": 0}, "clip_seconds must be > 0"),
        ({"name": "fsdd", "sample_rate": 100}, "sample_rate must be an int >= 1000"),
        ({"name": "tfds:no_such_set"}, "tfds has no dataset 'no_such_set'"),
    ):
        with pytest.raises(ValueError, match=fragment) as info:
            datasets.load_audio(**kwargs)
        assert "\n" not in str(info.value)
    monkeypatch.setenv("AIP_OFFLINE", "1")
    with pytest.raises(ValueError, match="not 'audio' and 'label'"):  # checked before any download
        datasets.load_audio("tfds:mnist", data_dir=tmp_path)


def test_fsdd_sets(shared_data):
    train = datasets.load_audio("fsdd", "train", data_dir=shared_data, sample_rate=RATE)
    test = datasets.load("fsdd", "test")  # the image-style entry point: 1 s at 16 kHz
    assert (train.num_examples, train.num_classes, train.image_shape, train.sample_rate) == (2700, 10, (8000,), 8000)
    assert (test.num_examples, test.image_shape, test.sample_rate) == (300, (16000,), 16000)
    x, y = train.arrays()
    assert x.dtype == np.float32 and y.dtype == np.int32 and np.abs(x).max() <= 1.0
    assert np.array_equal(np.bincount(y), [270] * 10)
    fit, val = datasets.split_validation(train, 0.1)
    xb, yb = next(iter(val.dataset(32, shuffle=True)))
    assert xb.shape == (32, 8000) and yb.dtype == "int32"
    with pytest.raises(ValueError, match="splits 'train' and 'test'"):
        datasets.load_audio("fsdd", "valid")


def test_audio_folder_set(tmp_path):
    for label, freq in (("high", 1200.0), ("low", 200.0)):
        (tmp_path / label).mkdir()
        for i, (rate, subtype) in enumerate(((8000, "PCM_16"), (16000, "FLOAT"), (11025, "PCM_24"))):
            t = np.arange(int(0.6 * rate)) / rate
            tone = (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
            soundfile.write(tmp_path / label / f"{i}.wav", np.stack([tone, tone], -1), rate, subtype=subtype)
    data = datasets.load_audio(tmp_path, sample_rate=RATE, clip_seconds=0.5)
    assert data.class_names == ("high", "low") and data.num_examples == 6
    x, y = data.arrays()
    assert x.shape == (6, 4000) and list(y) == [0, 0, 0, 1, 1, 1]
    (tmp_path / "low" / "3.wav").write_text("not audio")
    with pytest.raises(ValueError, match="cannot read audio file"):
        datasets.load_audio(tmp_path)


def test_tfds_audio_offline_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("AIP_OFFLINE", "1")
    with pytest.raises(ValueError) as excinfo:
        datasets.load_audio("tfds:speech_commands", data_dir=tmp_path)
    assert "cannot be downloaded (no network)" in str(excinfo.value) and "\n" not in str(excinfo.value)
