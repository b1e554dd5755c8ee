"""aip_keras.zoo.cards: card text, logs, portable runs; and the committed zoo/ cards and files."""
import json
import re

import pytest
from huggingface_hub import ModelCard
from zoo_fixtures import KERAS_LOG, REPO, ZOO_ENTRIES

from aip_keras import zoo
from aip_keras.zoo import cards, folders

# Paths of one particular machine, which no file of the zoo may contain.
LOCAL_PATH = re.compile(r"/root/|/home/[A-Za-z0-9_.-]+|/Users/[A-Za-z0-9_.-]+|/tmp/|/usr/share/|/work/")
WINDOWS_PATH = re.compile(r"(?<![A-Za-z0-9])[A-Z]:\\{1,2}[A-Za-z]")  # C:\Users, C:\\Users (in JSON)
ZOO_FOLDERS = [REPO / "zoo", REPO / "aip_keras" / "data" / "zoo"]


def test_clean_log_keeps_the_last_run_only():
    text = "Epoch 1/3\n3/3 ━━ 1s - loss: 9\nEpoch 2/3\n" + KERAS_LOG
    assert zoo.clean_log(text).splitlines()[0:2] == ["Epoch 1/2", "4/4 - 2s 10ms/step - accuracy: 0.5 - loss: "
                                                      "1.2 - val_accuracy: 0.6 - val_loss: 1.0"]
    with pytest.raises(ValueError, match="no Keras epoch lines"):
        zoo.clean_log("nothing here")


def test_portable_run_replaces_absolute_paths_only():
    run = {"config": {"source": "/tmp/x/clip.wav", "teacher": "/srv/zoo/fsdd-teacher", "eval": "fsdd",
                      "student": "audio_cnn", "list": ["C:\\data\\a.png", "relative/b.png", 3]},
           "source": {"clip": "~/clips/c.wav"}}
    clean = cards.portable_run(run, entry_names={"fsdd-teacher"})
    assert clean == {"config": {"source": "clip.wav", "teacher": "zoo:fsdd-teacher", "eval": "fsdd",
                                "student": "audio_cnn", "list": ["a.png", "relative/b.png", 3]},
                     "source": {"clip": "c.wav"}}
    assert run["config"]["source"] == "/tmp/x/clip.wav"  # a copy
    assert cards.source_label({"config": {"source": "/a/b.wav"}, "source_note": "CC-BY"}) == "`b.wav` (CC-BY)"


def test_keras_usage_says_exactly_what_loading_needs():
    plain = cards.keras_usage("o/m", ["keras"], [])
    assert "import keras\n\nmodel = keras.saving.load_model(\"hf://o/m\")" in plain and "aip_keras" not in \
        plain.split("```python")[1]
    custom = cards.keras_usage("o/a", ["aip_keras"], ["aip_keras>LogMel", "aip_keras>SpecAugment"])
    assert "pip install aip_keras" in custom and "plain Keras alone cannot load it" in custom
    assert "import aip_keras.front_end  # registers aip_keras>LogMel, aip_keras>SpecAugment\nimport keras\n" in custom
    assert cards.loads_with(["keras"]).startswith("plain Keras 3")


def test_no_local_paths_in_the_zoo():
    """No file of zoo/ (or the bundled copy) names a path of the machine that made it."""
    hits = []
    for base in ZOO_FOLDERS:
        for path in sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else []:
            data = path.read_bytes()
            try:
                text, patterns = data.decode("utf-8"), (LOCAL_PATH, WINDOWS_PATH)
            except UnicodeDecodeError:  # weights: only the long POSIX prefixes (a drive letter is 3 random bytes)
                text, patterns = data.decode("latin-1"), (LOCAL_PATH,)
            for pattern in patterns:
                for match in pattern.finditer(text):
                    line = text.count("\n", 0, match.start()) + 1
                    hits.append(f"{path.relative_to(REPO)}:{line}: {match.group(0)!r}")
    assert hits == []


@pytest.mark.parametrize("name", ZOO_ENTRIES)
def test_every_zoo_card(name):
    """Each committed entry: a valid card whose numbers are its run.json's, and that says what loading needs."""
    entry = zoo.info(name)
    folder = REPO / "zoo" / entry["folder"]
    run = json.loads((folder / "run.json").read_text())
    card = ModelCard.load(folder / "README.md")
    accuracy = run["test_accuracy"] if entry["kind"] == "teacher" else run["student_accuracy"]
    assert card.data.library_name == "keras" and card.data.eval_results[0].metric_value == accuracy
    assert entry["accuracy"] == accuracy and card.data.base_model == entry["base_model"]
    if entry["kind"] == "student":
        assert entry["base_model"] in {e["repo_id"] for e in zoo.list()} and entry["source"]
    config = json.loads((folder / "config.json").read_text())
    assert entry["requires"] == zoo.requires(config) == card.data.to_dict()["aip_keras"]["requires"]
    assert cards.keras_usage(entry["repo_id"], entry["requires"], folders.custom_objects(config)) in card.text
    modality = entry["input_spec"].get("modality", "image")
    assert card.data.pipeline_tag == f"{modality}-classification"
    assert entry["requires"] == (["aip_keras"] if modality == "audio" else ["keras"])
