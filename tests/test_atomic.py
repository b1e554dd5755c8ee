"""Tests for aip_keras.atomic: a failed write never leaves a partial file or folder, a good one replaces whole."""
import json
import pathlib

import keras
import numpy as np
import pytest

from aip_keras import atomic


def _entries(folder):
    return sorted(p.name for p in pathlib.Path(folder).iterdir())


def test_atomic_path_moves_the_file_into_place(tmp_path):
    target = tmp_path / "deep" / "out.txt"  # parent folders are made
    with atomic.atomic_path(target) as tmp:
        assert tmp.name == "out.txt" and tmp.parent != target.parent
        tmp.write_text("done")
        assert not target.exists()  # nothing at the target until the body finishes
    assert target.read_text() == "done"
    assert _entries(target.parent) == ["out.txt"]  # no temporary folder left beside it


def test_atomic_path_leaves_no_partial_file_when_the_body_raises(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(KeyboardInterrupt):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half of it")
            raise KeyboardInterrupt
    assert _entries(tmp_path) == []
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("new, unfinished")
            raise RuntimeError("boom")
    assert target.read_text() == "old" and _entries(tmp_path) == ["out.txt"]


def test_atomic_path_replaces_files_and_folders_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic.atomic_path(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"  # the old file stays readable while the new one is written
    assert target.read_text() == "new"
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "stale.txt").write_text("from the old run")
    with atomic.atomic_path(folder) as tmp:
        tmp.mkdir()
        (tmp / "fresh.txt").write_text("new run")
    assert _entries(folder) == ["fresh.txt"]  # replaced, not merged
    assert _entries(tmp_path) == ["out.txt", "run"]


def test_atomic_path_refuses_an_empty_body(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="nothing was written"):
        with atomic.atomic_path(target):
            pass
    assert target.read_text() == "old" and _entries(tmp_path) == ["out.txt"]


def test_write_json_values_and_layout(tmp_path):
    path = tmp_path / "run.json"
    atomic.write_json(path, {"b": np.float32(0.5), "a": (1, 2), "path": tmp_path, "n": np.int64(3), "s": {7}})
    text = path.read_text()
    assert text.endswith("}\n") and text.index('"a"') < text.index('"b"')  # indented, keys sorted
    assert json.loads(text) == {"a": [1, 2], "b": 0.5, "path": str(tmp_path), "n": 3, "s": [7]}


def test_write_json_failure_keeps_the_old_file(tmp_path):
    path = tmp_path / "run.json"
    atomic.write_json(path, {"ok": 1})
    with pytest.raises(TypeError, match="object is not JSON serialisable"):
        atomic.write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1} and _entries(tmp_path) == ["run.json"]


def test_save_model_file_and_folder(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    x = np.ones((1, 4), "float32")
    atomic.save_model(model, tmp_path / "m.keras")
    atomic.save_model(model, tmp_path / "folder")
    assert {"config.json", "model.weights.h5", "metadata.json"} <= set(_entries(tmp_path / "folder"))
    assert _entries(tmp_path) == ["folder", "m.keras"]
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
