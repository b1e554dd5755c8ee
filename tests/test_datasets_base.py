"""Tests for aip_keras.datasets.base: places, LabelledSet and its stores, splits, caches, class folders."""
import json

import numpy as np
import pytest
import tensorflow as tf

from aip_keras.datasets import base


# --------------------------------------------------------------------------- places


def test_shared_data_dir(monkeypatch):
    monkeypatch.delenv("AIP_SHARED_DATA", raising=False)
    beside_repo = base.PACKAGE_DIR.parent.parent / "shared" / "data"
    assert base.shared_data_dir() == (beside_repo if beside_repo.is_dir() else None)
    monkeypatch.setenv("AIP_SHARED_DATA", "/some/where")
    assert str(base.shared_data_dir()) == "/some/where"


# --------------------------------------------------------------------------- LabelledSet


def _tiny_set(n=20):
    images = np.arange(n * 4 * 4 * 3, dtype=np.uint8).reshape(n, 4, 4, 3)
    labels = np.arange(n) % 4
    return base.LabelledSet(name="tiny", split="train", num_classes=4, class_names=("a", "b", "c", "d"),
                            image_shape=(4, 4, 3), num_examples=n, examples=base.ArraySource(images, labels))


def test_labelled_set_views_an_array_store():
    data = _tiny_set()
    x, y = data.arrays()
    assert x.shape == (20, 4, 4, 3) and x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(y, np.arange(20) % 4)
    np.testing.assert_allclose(x[1], np.arange(48, 96, dtype=np.float32).reshape(4, 4, 3) / 255.0)
    batches = list(data.dataset(8))
    assert [int(b[0].shape[0]) for b in batches] == [8, 8, 4]
    np.testing.assert_allclose(np.concatenate([b[0].numpy() for b in batches]), x)
    sub_x, sub_y = data.arrays(limit=5, seed=1)
    assert len(sub_y) == 5 and len(set(data.select(5, 1).tolist())) == 5
    np.testing.assert_array_equal(sub_y, y[data.select(5, 1)])
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        data.dataset(0)
    with pytest.raises(ValueError, match="limit must be a positive int"):
        data.arrays(limit=0)


def test_split_validation_is_disjoint_and_seeded():
    fit, val = base.split_validation(_tiny_set(), fraction=0.25, seed=0)
    assert (fit.num_examples, val.num_examples, fit.split, val.split) == (15, 5, "train-fit", "train-val")
    assert sorted(fit.indices.tolist() + val.indices.tolist()) == list(range(20))
    np.testing.assert_array_equal(val.arrays()[1], np.arange(20)[val.indices] % 4)
    inner_fit, inner_val = base.split_validation(fit, fraction=0.2, seed=0)  # of a subset: its own indices
    assert set(inner_val.indices) <= set(fit.indices) and inner_val.num_examples == 3
    for fraction in (0.0, 1.0, 0.01):
        with pytest.raises(ValueError):
            base.split_validation(_tiny_set(), fraction=fraction)


def test_resize_and_channels():
    x = tf.random.stateless_uniform([2, 6, 6, 4], [0, 1])
    assert base.resize(x, None) is x
    assert base.resize(x, (6, 6)).shape == (2, 6, 6, 4)
    small = base.resize(x, (3, 2)).numpy()
    assert small.shape == (2, 3, 2, 4) and small.min() >= 0.0 and small.max() <= 1.0
    grey = base.to_channels(x[0], 1)
    assert grey.shape == (6, 6, 1)
    assert base.to_channels(x[0, ..., :1], 3).shape == (6, 6, 3)
    np.testing.assert_array_equal(base.to_channels(x[0], 3).numpy(), x[0, ..., :3].numpy())


def test_decoded_cache_runs_once_per_tar_content(tmp_path):
    tar = tmp_path / "data.tar"
    tar.write_bytes(b"one")
    calls = []

    def decode(source, out):
        calls.append(source)
        base.save_npy(out / "x.npy", np.arange(3))
        return {"made": True}

    cache = tmp_path / "cache" / "data"
    base.ensure_decoded_cache(tar, cache, 1, decode, rate=8000)
    base.ensure_decoded_cache(tar, cache, 1, decode, rate=8000)
    assert len(calls) == 1
    info = json.loads((cache / "info.json").read_text())
    assert info["made"] and info["rate"] == 8000 and info["version"] == 1 and len(info["sha256"]) == 64
    np.testing.assert_array_equal(np.load(cache / "x.npy"), np.arange(3))
    base.ensure_decoded_cache(tar, cache, 2, decode)  # new version: decoded again
    tar.write_bytes(b"two")
    base.ensure_decoded_cache(tar, cache, 2, decode)  # new content: decoded again
    assert len(calls) == 3 and not list(cache.parent.glob(".data.*"))


def test_class_folder_scan(tmp_path):
    for split in ("train", "test"):
        for name in ("b", "a"):
            (tmp_path / split / name / ".hidden").mkdir(parents=True)
            (tmp_path / split / name / "1.wav").write_bytes(b"")
            (tmp_path / split / name / "notes.txt").write_text("x")
            (tmp_path / split / name / ".hidden" / "2.wav").write_bytes(b"")
    (tmp_path / "test" / "c").mkdir()
    root, class_dirs = base.split_folder(tmp_path, "test")
    assert root == tmp_path / "test" and [d.name for d in class_dirs] == ["a", "b", "c"]
    paths, labels, skipped, empty = base.scan_class_folders(class_dirs, (".wav",))
    assert [p.relative_to(root).as_posix() for p in paths] == ["a/1.wav", "b/1.wav"] and labels == [0, 1]
    assert len(skipped) == 2 and empty == ["c"]
    assert base.split_folder(tmp_path / "test", "anything")[0] == tmp_path / "test"  # no split sub-folders
    with pytest.raises(ValueError, match="split sub-folders .* no 'validation'"):
        base.split_folder(tmp_path, "validation")
