"""Tests for aip_keras.datasets.catalog: `load` dispatches a name to its modality, or says which names exist."""
import pytest

from aip_keras import datasets
from aip_keras.datasets import audio, catalog, video


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet': use 'cifar10'"):
        datasets.load("imagenet")
    with pytest.raises(ValueError, match="does not exist"):
        datasets.load("./no/such/folder")
    with pytest.raises(ValueError, match="splits 'train' and 'test'"):
        datasets.load("fashion_mnist", split="validation")
    with pytest.raises(ValueError, match="dataset name must be a string or a path"):
        datasets.load(3)
    with pytest.raises(ValueError, match="image_size must be"):
        datasets.load("fsdd", image_size=(0, 4))


def test_load_dispatches_by_modality(monkeypatch):
    calls = []
    monkeypatch.setattr(audio, "load_audio", lambda *a, **k: calls.append(("audio", a, k)) or "audio set")
    monkeypatch.setattr(video, "load_video_set", lambda *a, **k: calls.append(("video", a, k)) or "video set")
    assert datasets.load is catalog.load
    assert catalog.load("fsdd", split="train", data_dir="x") == "audio set"
    assert catalog.load("cifar10_clips") == "video set"
    assert calls == [("audio", ("fsdd",), {"split": "train", "data_dir": "x"}),
                     ("video", ("cifar10_clips",), {"split": "test", "data_dir": None})]
    assert catalog.load("fashion_mnist").image_shape == (28, 28, 1)
