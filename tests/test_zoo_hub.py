"""aip_keras.zoo.hub: load and pull through the zoo folders and a pre-filled offline Hugging Face cache;
every committed entry loads with `keras.saving.load_model("hf://...")` exactly as its card says."""
import json
import os
import re
import shutil
import subprocess
import sys

import huggingface_hub
import numpy as np
import pytest
from huggingface_hub import ModelCard
from zoo_fixtures import (  # noqa: F401
    COMMIT,
    REPO,
    STUDENT,
    TEACHER,
    ZOO_ENTRIES,
    copy_zoo,
    fill_hf_cache,
    images,
    made,
    offline_cache,
)

from aip_keras import atomic, teachers, zoo
from aip_keras.zoo import index


def test_load_prefers_the_local_folder(made, monkeypatch):  # noqa: F811
    root = made["root"]
    loaded = zoo.load(TEACHER, zoo=root)
    model, spec = loaded
    assert loaded.source == "local" and loaded.folder == root / TEACHER and loaded.sample_rate is None
    assert (spec.size, spec.channels, spec.value_range) == ((12, 12), 1, (0.0, 1.0))
    np.testing.assert_allclose(model(images()).numpy(), made["teacher"](images()).numpy(), atol=1e-6)
    assert zoo.load(f"aip-keras/{TEACHER}", zoo=root).name == TEACHER  # by repo id too
    monkeypatch.setenv("AIP_ZOO_DIR", str(root))
    teacher, teacher_spec = teachers.load_teacher(f"zoo:{STUDENT}")  # a zoo student as a teacher
    assert teacher.trainable is False and teacher_spec.size == (12, 12)
    with pytest.raises(ValueError, match="not in the zoo index"):
        zoo.info("someone/nope", zoo=root)
    with pytest.raises(ValueError, match="neither a zoo entry nor a Hub repo id"):
        zoo.load("nope", zoo=root)


def test_load_through_the_hf_cache_offline(made, offline_cache, tmp_path):  # noqa: F811
    root = copy_zoo(made, tmp_path)
    repo_id = f"aip-keras/{TEACHER}"
    fill_hf_cache(offline_cache, repo_id, root / TEACHER)
    scanned = huggingface_hub.scan_cache_dir(offline_cache)  # huggingface_hub accepts the layout
    assert not scanned.warnings and [r.repo_id for r in scanned.repos] == [repo_id]

    # not published (revision null): refs/main of the cache, the real snapshot_download code path
    loaded = zoo.load(TEACHER, zoo=root, prefer_local=False)
    assert loaded.source == "cache" and loaded.folder == offline_cache / f"models--aip-keras--{TEACHER}" / \
        "snapshots" / COMMIT
    np.testing.assert_allclose(loaded.model(images()).numpy(), made["teacher"](images()).numpy(), atol=1e-6)

    # pinned: the index revision selects the snapshot; the local folder is absent
    pinned = zoo.read_index(root)
    pinned["entries"][TEACHER].update(revision=COMMIT, published=True)
    atomic.write_json(root / "index.json", pinned)
    shutil.rmtree(root / TEACHER)
    loaded = zoo.load(TEACHER, zoo=root)
    assert loaded.source == "cache" and loaded.revision == COMMIT

    out = tmp_path / "pulled"
    assert zoo.pull(TEACHER, output=out, zoo=root) == out
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        p.name for p in (offline_cache / f"models--aip-keras--{TEACHER}" / "snapshots" / COMMIT).iterdir()
        if not p.name.startswith("."))
    assert not any(p.name.startswith(".pulled") for p in tmp_path.iterdir())  # no temporary folder left

    with pytest.raises(ValueError, match="not in the Hugging Face cache .* cannot be reached"):
        zoo.load(TEACHER, revision="f" * 40, zoo=root)
    with pytest.raises(ValueError, match="not in the Hugging Face cache .* cannot be reached"):
        zoo.load("someone/not-cached", zoo=root)


def test_unpublished_entry_without_folder_or_cache(made, offline_cache, tmp_path):  # noqa: F811
    root = copy_zoo(made, tmp_path)
    shutil.rmtree(root / STUDENT)
    with pytest.raises(ValueError, match=f"zoo entry '{STUDENT}' is not published yet"):
        zoo.load(STUDENT, zoo=root)


def test_tampered_files_are_refused(made, offline_cache, tmp_path):  # noqa: F811
    root = copy_zoo(made, tmp_path)
    weights = root / TEACHER / "model.weights.h5"
    weights.write_bytes(weights.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="model.weights.h5 .* does not match the index"):
        zoo.load(TEACHER, zoo=root)


REAL = REPO / "zoo" / "fashion_mnist-teacher-small_cnn"


def test_the_fashion_mnist_teacher_entry(offline_cache):  # noqa: F811
    run = json.loads((REAL / "run.json").read_text())
    card = ModelCard.load(REAL / "README.md")
    assert card.data.library_name == "keras" and card.data.eval_results[0].metric_value == run["test_accuracy"]
    entry = zoo.info("fashion_mnist-teacher-small_cnn")
    assert entry["accuracy"] == run["test_accuracy"] and entry["repo_id"] == "aip-keras/fashion_mnist-teacher-small_cnn"
    model, spec = teachers.load_teacher("zoo:fashion_mnist-teacher-small_cnn")
    assert model.output_shape == (None, 10) and (spec.size, spec.channels) == ((28, 28), 1)
    assert "Epoch 1/" in (REAL / "training_log.txt").read_text()
    with pytest.raises(ValueError, match="not published yet .its local folder is"):
        zoo.pull("fashion_mnist-teacher-small_cnn")
    fill_hf_cache(offline_cache, entry["repo_id"], REAL)  # the entry as the Hub would serve it
    loaded = zoo.load("fashion_mnist-teacher-small_cnn", prefer_local=False)
    assert loaded.source == "cache" and loaded.model.output_shape == (None, 10)


@pytest.mark.parametrize("name", ZOO_ENTRIES)
def test_every_zoo_entry_loads_from_the_hf_cache(name, offline_cache):  # noqa: F811
    entry = zoo.info(name)
    folder = REPO / "zoo" / entry["folder"]
    fill_hf_cache(offline_cache, entry["repo_id"], folder)
    loaded = zoo.load(name, prefer_local=False)
    assert loaded.source == "cache" and loaded.model.output_shape == (None, entry["num_classes"])
    if entry["input_spec"].get("modality") == "audio":
        assert loaded.input_spec is None and loaded.sample_rate == entry["input_spec"]["sample_rate"]
        assert loaded.model.inputs[0].shape[1] == entry["input_spec"]["samples"]
    elif entry["input_spec"].get("modality") == "video":
        assert loaded.input_spec is None
        assert tuple(loaded.model.inputs[0].shape[1:3]) == (entry["input_spec"]["frames"],
                                                           entry["input_spec"]["size"][0])
    else:
        assert (tuple(loaded.input_spec.size), loaded.input_spec.channels) == tuple(
            (tuple(entry["input_spec"]["size"]), entry["input_spec"]["channels"]))


# Runs each card's "load it with Keras" snippet in a fresh process, then reports what it loaded.
RUN_SNIPPETS = """
import json, sys
for item in json.loads(sys.argv[1]):
    namespace = {}
    exec(item["code"], namespace)
    model = namespace["model"]
    print(json.dumps({"name": item["name"], "inputs": list(model.inputs[0].shape), "outputs": list(model.output_shape),
                      "aip_keras": "aip_keras" in sys.modules}))
"""


def card_snippet(card_text):
    """The card's Python block that loads the model with `keras.saving.load_model("hf://...")`."""
    blocks = re.findall(r"```python\n(.*?)```", card_text, re.S)
    (block,) = [b for b in blocks if 'keras.saving.load_model("hf://' in b]
    return block


def test_every_entry_loads_with_keras_from_hf_as_its_card_says(tmp_path):
    """hf:// through a pre-filled cache, offline: plain-Keras entries in a process that never imports aip_keras."""
    cache = tmp_path / "hub"
    groups = {}
    entries = index.read_folder_index(REPO / "zoo")["entries"]
    for name in ZOO_ENTRIES:
        entry = entries[name]
        folder = REPO / "zoo" / entry["folder"]
        fill_hf_cache(cache, entry["repo_id"], folder)
        code = card_snippet((folder / "README.md").read_text())
        assert f'load_model("hf://{entry["repo_id"]}")' in code
        assert ("import aip_keras" in code) == (entry["requires"] == ["aip_keras"])
        groups.setdefault(tuple(entry["requires"]), []).append({"name": name, "code": code})
    assert ("keras",) in groups
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1",
           "PYTHONPATH": ""}
    for requires, items in groups.items():
        result = subprocess.run([sys.executable, "-c", RUN_SNIPPETS, json.dumps(items)], capture_output=True,
                                text=True, timeout=240, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        loaded = {row["name"]: row for row in map(json.loads, result.stdout.strip().splitlines())}
        assert sorted(loaded) == sorted(item["name"] for item in items)
        for name, row in loaded.items():
            entry = entries[name]
            assert row["outputs"] == [None, entry["num_classes"]], name
            assert row["aip_keras"] == (requires != ("keras",)), name  # plain Keras: aip_keras never imported
            spec = entry["input_spec"]
            expected = {"audio": lambda: [None, spec.get("samples")],
                        "video": lambda: [None, spec["frames"], *spec["size"], spec["channels"]]}.get(
                spec.get("modality"), lambda: [None, *spec["size"], spec["channels"]])()
            assert row["inputs"] == expected, name
